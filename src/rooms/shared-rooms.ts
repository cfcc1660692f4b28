// Rooms shared by the nodes of a cluster. Every node makes the room; one, its owner, runs it, held by
// a lease it renews every second. A member's client may be connected to any node: its joins, leaves
// and messages travel to the owner, and the owner's output travels back on the bus (broadcasts once
// to every node, each publishing natively to its own sockets; a packet for one member to that
// member's node). The owner snapshots the room every second; when its lease lapses, another node
// takes the room over from the last snapshot, and every node tells the new owner who its members
// are: those of live nodes keep their place, those of a dead node leave and the others are told once.
import type { Bus } from "../cluster/bus.ts";
import { FrameKind, type Frame } from "../cluster/frames.ts";
import { HEARTBEAT_MS, NODE_TTL_MS } from "../cluster/membership.ts";
import { LEASE_TTL_MS, SNAPSHOT_TTL_MS, type Leases } from "../cluster/leases.ts";
import type { Hub } from "../hub/hub.ts";
import { errorText, type Logger } from "../log.ts";
import { decodePacket } from "../packets/index.ts";
import type { RoomFigures, RoomSharing, SharedRoom } from "./rooms.ts";

/** What the shared rooms need of the cluster. */
export interface RoomsCluster {
  readonly node: string;
  /** The live nodes, this one included. */
  readonly nodes: string[];
  readonly bus: Bus;
  readonly leases: Leases;
  /** False from the first failed call to Redis until a heartbeat gets through again. */
  readonly up: boolean;
  /** Redis did not answer: the cluster logs it, once an outage. */
  trouble(err: unknown): void;
}

/** What the owner keeps in Redis: the room's state, and where each member was connected. */
interface SharedSnapshot {
  state: unknown;
  members: [clientId: number, node: string][];
}

/** The events about rooms, on the bus as JSON. */
export type RoomEvent =
  | { type: "owner"; room: string; node: string }
  | { type: "released"; room: string }
  | { type: "members"; room: string; members: [clientId: number, join: unknown][] }
  | { type: "figures"; room: string; figures: RoomFigures }
  | { type: "disposed"; room: string }
  /** A replica of the room's world asks its owner for a whole dump. */
  | { type: "world-whole"; room: string }
  /** A member connected to the sender takes world frames there. */
  | { type: "frames"; room: string; clientId: number };

/**
 * An owner acts only while its lease was confirmed this recently (the request's time): then at least
 * a second of the lease is left, and no other node can have taken it.
 */
const LEASE_CONFIRMED_MS = LEASE_TTL_MS - 1000;

/** After Redis returns, owners get this long to renew their leases before anyone takes one. */
const QUIET_AFTER_OUTAGE_MS = NODE_TTL_MS;

export class SharedRooms implements RoomSharing {
  private readonly instances = new Map<string, SharedRoom>();
  private readonly checking = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  /** When each room this node runs last had its lease confirmed (the renewal's request time). */
  private readonly leaseAt = new Map<string, number>();
  /** The snapshot each room this node runs last saved, and when: one that has not changed is saved again only before it expires. */
  private readonly saved = new Map<string, { json: string; at: number }>();
  /** Rooms whose owner has not had this node's members report yet (the bus was down). */
  private readonly unreported = new Set<string>();
  private quietUntil = 0;

  constructor(
    private readonly cluster: RoomsCluster,
    private readonly hub: Hub,
    private readonly log: Logger,
  ) {}

  get node(): string {
    return this.cluster.node;
  }

  /** Each shared room's owner, for /healthz. */
  owners(): Record<string, string> {
    const owners: Record<string, string> = {};
    for (const [id, instance] of this.instances) if (instance.share.owner) owners[id] = instance.share.owner;
    return owners;
  }

  /** How long ago (ms) the owner of each shared room run elsewhere reported its figures, for /healthz. */
  reportAges(): Record<string, number> {
    const ages: Record<string, number> = {};
    const now = performance.now();
    for (const [id, instance] of this.instances) if (!instance.running && instance.share.reported) ages[id] = Math.round(now - instance.share.reported.at);
    return ages;
  }

  /** A shared room made on this node: it runs here only once this node holds its lease. */
  adopt(instance: SharedRoom): void {
    this.instances.set(instance.id, instance);
    this.hub.span(instance.topic);
    this.hub.span(instance.classicTopic);
    // The world's ticks: the owner's to every node once, each node making its own clients' frames.
    instance.world?.linkTo({
      send: (tick) => this.cluster.bus.toAll({ kind: FrameKind.world, room: instance.id, bytes: tick }),
      askWhole: () => {
        if (instance.share.owner && this.cluster.up) this.cluster.bus.toNode(instance.share.owner, event({ type: "world-whole", room: instance.id }));
      },
    });
    instance.world?.becomeReplica();
    void this.check(instance);
    this.timer ??= setInterval(() => {
      // Redis work for the rooms this node runs or has members in (or whose owner it does not know
      // yet), not for every room: the others hear of a new owner on the bus.
      for (const each of this.instances.values()) if (each.running || each.members.size > 0 || each.share.owner === undefined) void this.check(each);
    }, HEARTBEAT_MS);
  }

  /** Before the process stops: each room this node runs is snapshotted and its lease given up, for another to take at once. */
  async handOver(): Promise<void> {
    clearInterval(this.timer);
    for (const instance of this.instances.values()) {
      if (!instance.running) continue;
      try {
        await this.cluster.leases.saveSnapshot(instance.id, this.snapshotOf(instance));
        await this.cluster.leases.release(instance.id);
        this.cluster.bus.toAll(event({ type: "released", room: instance.id }));
        this.log.info(`Room ${instance.id}: handed over (snapshot saved, lease released)`);
      } catch (err) {
        this.log.warn(`Room ${instance.id}: could not hand over (${errorText(err)}); another node takes it when the lease lapses`);
      }
      instance.guard("onDispose", () => instance.room.onDispose());
      instance.halt();
      instance.share.owner = undefined;
    }
    this.cluster.bus.flush();
  }

  /** Redis is back after an outage: leases are renewed or taken, and every owner hears again who is where. */
  reconnected(): void {
    this.quietUntil = performance.now() + QUIET_AFTER_OUTAGE_MS;
    for (const instance of this.instances.values()) if (!instance.running && instance.share.owner) this.report(instance, instance.share.owner);
  }

  /** Nodes have left the cluster: their members leave the rooms run here, and rooms they ran await a new owner. */
  nodesGone(gone: ReadonlySet<string>): void {
    for (const instance of this.instances.values()) {
      if (instance.running) {
        for (const [clientId, node] of instance.share.remote) if (gone.has(node)) this.lost(instance, clientId);
      } else if (instance.share.owner && gone.has(instance.share.owner)) {
        instance.share.owner = undefined;
        void this.check(instance);
      }
    }
  }

  // What a member connected to this node does, in a room another node runs.

  joined(instance: SharedRoom, clientId: number, join: unknown): void {
    if (instance.share.owner) this.cluster.bus.toNode(instance.share.owner, { kind: FrameKind.join, room: instance.id, clientId, json: JSON.stringify(join ?? null) });
  }

  left(instance: SharedRoom, clientId: number, farewell: Uint8Array): void {
    if (instance.share.owner) this.cluster.bus.toNode(instance.share.owner, { kind: FrameKind.leave, room: instance.id, clientId, bytes: farewell });
  }

  message(instance: SharedRoom, clientId: number, bytes: Uint8Array): void {
    if (instance.share.owner) this.cluster.bus.toNode(instance.share.owner, { kind: FrameKind.roomMessage, room: instance.id, clientId, bytes });
  }

  /** A member connected here takes world frames (this node makes them): its room's owner stops the classic messages for it. */
  framesTaken(instance: SharedRoom, clientId: number): void {
    if (instance.share.owner) this.cluster.bus.toNode(instance.share.owner, event({ type: "frames", room: instance.id, clientId }));
  }

  // What the owner does for a member connected elsewhere.

  direct(instance: SharedRoom, clientId: number, bytes: Uint8Array): void {
    // On the channel every node hears, so that it arrives in order with the room's broadcasts.
    this.cluster.bus.toAll({ kind: FrameKind.direct, room: instance.id, clientId, bytes });
  }

  setState(instance: SharedRoom, clientId: number, state: string, arg: unknown): void {
    this.cluster.bus.toAll({ kind: FrameKind.state, room: instance.id, clientId, state, json: JSON.stringify(arg ?? null) });
  }

  /** The room is closed here (made by a game for a while, like a match): its owner tells every node, which close theirs. */
  disposed(instance: SharedRoom, ran: boolean): void {
    if (this.instances.get(instance.id) !== instance) return;
    this.instances.delete(instance.id);
    this.leaseAt.delete(instance.id);
    this.saved.delete(instance.id);
    this.unreported.delete(instance.id);
    this.hub.unspan(instance.topic);
    this.hub.unspan(instance.classicTopic);
    if (!ran) return;
    this.cluster.bus.toAll(event({ type: "disposed", room: instance.id }));
    void this.cluster.leases.release(instance.id).catch((err) => this.cluster.trouble(err));
  }

  /** A member's session moved from one node to another (resume-link.ts): the owner sends to it there from now. */
  memberMoved(roomId: string, clientId: number, from: string, to: string): void {
    const instance = this.instances.get(roomId);
    if (!instance?.running || instance.share.remote.get(clientId) !== from) return;
    if (to === this.cluster.node) instance.share.remote.delete(clientId);
    else instance.share.remote.set(clientId, to);
  }

  /** A frame about a room, from node `origin`. */
  received(origin: string, frame: Frame): void {
    if (frame.kind === FrameKind.topic || frame.kind === FrameKind.event) return;
    const instance = this.instances.get(frame.room);
    if (!instance) return;
    switch (frame.kind) {
      case FrameKind.world: {
        if (!instance.running && origin === instance.share.owner) instance.guard("the world's tick", () => instance.world?.received(frame.bytes));
        return;
      }
      case FrameKind.direct: {
        if (instance.joins.has(frame.clientId)) this.hub.clients.get(frame.clientId)?.sendBytes(frame.bytes);
        return;
      }
      case FrameKind.state: {
        const client = this.hub.clients.get(frame.clientId);
        if (client && instance.joins.has(frame.clientId)) instance.guard("setState", () => client.setState(frame.state, JSON.parse(frame.json) ?? undefined));
        return;
      }
      case FrameKind.join: {
        if (!instance.running) return;
        instance.share.remote.set(frame.clientId, origin);
        if (instance.members.has(frame.clientId)) return;
        instance.members.add(frame.clientId);
        const join: unknown = JSON.parse(frame.json);
        instance.guard("onJoin", () => instance.room.onJoin(frame.clientId, join));
        return;
      }
      case FrameKind.leave: {
        if (!instance.running || instance.share.remote.get(frame.clientId) !== origin) return;
        instance.share.remote.delete(frame.clientId);
        if (frame.bytes.length > 0) this.hub.forward(instance.topic, frame.clientId, frame.bytes);
        instance.guard("onLeave", () => instance.room.onLeave(frame.clientId));
        instance.world?.forget(frame.clientId);
        instance.members.delete(frame.clientId);
        return;
      }
      case FrameKind.roomMessage: {
        if (!instance.running || instance.share.remote.get(frame.clientId) !== origin) return;
        instance.guard("a member's message", () => {
          const { msg } = decodePacket(frame.bytes);
          if (msg) instance.handle(frame.clientId, msg);
        });
        return;
      }
    }
  }

  /** An event about a room, from node `origin`. */
  event(origin: string, roomEvent: RoomEvent): void {
    const instance = this.instances.get(roomEvent.room);
    if (!instance) return;
    switch (roomEvent.type) {
      case "owner":
        if (!instance.running) this.ownerIs(instance, roomEvent.node);
        return;
      case "released":
        if (!instance.running) {
          instance.share.owner = undefined;
          void this.check(instance);
        }
        return;
      case "members":
        if (instance.running) this.reconcile(instance, origin, roomEvent.members);
        return;
      case "disposed":
        if (!instance.running) instance.dispose();
        return;
      case "figures":
        if (!instance.running && origin === instance.share.owner) instance.share.reported = { figures: roomEvent.figures, at: performance.now() };
        return;
      case "world-whole":
        if (instance.running) instance.world?.sendWhole();
        return;
      case "frames":
        if (instance.running && instance.share.remote.get(roomEvent.clientId) === origin) {
          instance.world?.markFrames(roomEvent.clientId);
          if (instance.room.onFrames) instance.guard("onFrames", () => instance.room.onFrames!(roomEvent.clientId));
        }
        return;
    }
  }

  /** Once a second: the owner renews its lease and saves a snapshot; the others learn the owner, or take a lapsed lease. */
  private async check(instance: SharedRoom): Promise<void> {
    if (this.checking.has(instance.id) || instance.disposed) return;
    this.checking.add(instance.id);
    const { leases, node } = this.cluster;
    try {
      if (instance.running) {
        const asked = performance.now();
        const holder = await leases.renew(instance.id);
        if (holder !== node) return this.lostLease(instance, holder);
        this.confirmed(instance, asked);
        const json = this.snapshotOf(instance);
        const last = this.saved.get(instance.id);
        if (last?.json !== json || asked - last.at > SNAPSHOT_TTL_MS / 2) {
          await leases.saveSnapshot(instance.id, json);
          this.saved.set(instance.id, { json, at: asked });
        }
        // What /healthz and the dashboard of the other nodes show of the room: its owner's figures.
        const figures = instance.ownFigures();
        if (figures) this.cluster.bus.toAll(event({ type: "figures", room: instance.id, figures }));
        return;
      }
      const holder = await leases.owner(instance.id);
      if (holder === node) {
        // A lease this node holds without running the room (it gave the room up and asked again): let it lapse.
        await leases.release(instance.id);
        return;
      }
      if (holder && holder === instance.share.owner && this.unreported.has(instance.id)) return this.report(instance, holder);
      if (holder) return this.ownerIs(instance, holder);
      // A lease is taken only from an owner known to be gone (or when none was ever known); and when
      // Redis has just returned (maybe empty), the owner re-takes its lease first.
      if (instance.share.owner !== undefined || !this.cluster.up || performance.now() < this.quietUntil) return;
      const took = await leases.take(instance.id);
      if (took.taken) this.takeOver(instance, took.snapshot);
      else if (took.holder) this.ownerIs(instance, took.holder);
    } catch (err) {
      this.cluster.trouble(err);
    } finally {
      this.checking.delete(instance.id);
    }
  }

  private snapshotOf(instance: SharedRoom): string {
    const members: [number, string][] = [...instance.members].map((id) => [id, instance.share.remote.get(id) ?? this.cluster.node]);
    const snapshot: SharedSnapshot = { state: instance.room.snapshot(), members };
    return JSON.stringify(snapshot);
  }

  /** The lease was confirmed as of `at`: the room may act for a while (and says so if it stood still). */
  private confirmed(instance: SharedRoom, at: number): void {
    const was = this.leaseAt.get(instance.id);
    this.leaseAt.set(instance.id, at);
    if (was !== undefined && at - was > LEASE_CONFIRMED_MS) this.log.info(`Room ${instance.id}: its lease is confirmed again; the room goes on`);
  }

  /** This node holds the lease now: the room runs here, from the snapshot if there is one. */
  private takeOver(instance: SharedRoom, json: string | undefined): void {
    const previous = instance.share.owner;
    instance.share.owner = this.cluster.node;
    this.leaseAt.set(instance.id, performance.now());
    let still = false;
    instance.share.mayAct = () => {
      const may = performance.now() - (this.leaseAt.get(instance.id) ?? -Infinity) < LEASE_CONFIRMED_MS;
      if (!may && !still) this.log.warn(`Room ${instance.id}: this node cannot confirm its lease (Redis unreachable, or the node was paused): the room stands still, so that no other node runs it at the same time`);
      still = !may;
      return may;
    };
    instance.members.clear();
    instance.share.remote.clear();
    instance.start();
    const live = new Set(this.cluster.nodes);
    if (json) {
      const snapshot = JSON.parse(json) as SharedSnapshot;
      instance.guard("restore", () => instance.room.restore(snapshot.state));
      for (const [clientId, node] of snapshot.members) {
        instance.members.add(clientId);
        if (node !== this.cluster.node) instance.share.remote.set(clientId, node);
      }
      // Members whose node is gone, and this node's own that left meanwhile, leave; the others' nodes report.
      for (const [clientId, node] of snapshot.members) {
        const gone = node === this.cluster.node ? !instance.joins.has(clientId) : !live.has(node) || node === previous;
        if (gone) this.lost(instance, clientId);
      }
    }
    for (const [clientId, join] of instance.joins) {
      if (instance.members.has(clientId)) continue;
      instance.members.add(clientId);
      instance.guard("onJoin", () => instance.room.onJoin(clientId, join));
    }
    this.log.info(`Room ${instance.id}: this node runs it now${json ? " (restored from the last snapshot)" : ""}${previous ? `, after ${previous}` : ""}`);
    this.cluster.bus.toAll(event({ type: "owner", room: instance.id, node: this.cluster.node }));
  }

  /** Another node holds the lease of a room this node ran (Redis was away from this node): the room moves there. */
  private lostLease(instance: SharedRoom, holder: string): void {
    this.log.warn(`Room ${instance.id}: node ${holder} holds its lease now; this node's members move there`);
    instance.share.mayAct = () => true;
    this.leaseAt.delete(instance.id);
    this.saved.delete(instance.id);
    instance.guard("onDispose", () => instance.room.onDispose());
    instance.halt();
    instance.share.remote.clear();
    instance.members.clear();
    for (const clientId of instance.joins.keys()) instance.members.add(clientId);
    instance.share.owner = undefined;
    this.ownerIs(instance, holder);
  }

  private ownerIs(instance: SharedRoom, owner: string): void {
    if (instance.share.owner === owner) return;
    instance.share.owner = owner;
    this.report(instance, owner);
  }

  /**
   * Tells the owner which of its members are connected to this node, and what they brought; while
   * the bus is down (it would be dropped), again once it is up (see check).
   */
  private report(instance: SharedRoom, owner: string): void {
    if (!this.cluster.up) {
      this.unreported.add(instance.id);
      return;
    }
    this.unreported.delete(instance.id);
    this.cluster.bus.toNode(owner, event({ type: "members", room: instance.id, members: [...instance.joins] }));
  }

  /** A node's report: its members that are not in the room join; those the room has that it no longer holds leave. */
  private reconcile(instance: SharedRoom, node: string, members: [number, unknown][]): void {
    const reported = new Map(members);
    for (const [clientId, at] of instance.share.remote) if (at === node && !reported.has(clientId)) this.lost(instance, clientId);
    for (const [clientId, join] of reported) {
      instance.share.remote.set(clientId, node);
      if (instance.members.has(clientId)) continue;
      instance.members.add(clientId);
      instance.guard("onJoin", () => instance.room.onJoin(clientId, join));
    }
  }

  /** A member gone without leaving (its node died, or its leave was lost): the others hear the room's farewell once. */
  private lost(instance: SharedRoom, clientId: number): void {
    instance.share.remote.delete(clientId);
    if (!instance.members.has(clientId)) return;
    const farewell = instance.room.farewell?.(clientId);
    if (farewell) this.hub.broadcast(clientId, farewell, instance.topic);
    instance.guard("onLeave", () => instance.room.onLeave(clientId));
    instance.world?.forget(clientId);
    instance.members.delete(clientId);
  }
}

function event(roomEvent: RoomEvent): Frame {
  return { kind: FrameKind.event, json: JSON.stringify(roomEvent) };
}
