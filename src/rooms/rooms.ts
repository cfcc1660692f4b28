// Every room instance of one server: made from the game's room types, each with its own topic,
// members, timers and tick. The one place a client's message reaches its room, and a room's output
// reaches the clients (through the Hub), so a later transport between processes needs only this seam.
import type { ClientInterfacer } from "../hub/client.ts";
import type { Hub } from "../hub/hub.ts";
import { errorText, type Logger } from "../log.ts";
import { encodePacket, type Msg } from "../packets/index.ts";
import type { Leaderboards } from "../store/leaderboards.ts";
import type { Storage } from "../store/storage.ts";
import { seededRandom, type Random } from "./random.ts";
import type { Room, RoomContext, RoomFigures } from "./room.ts";
import { Ticker } from "./ticker.ts";
import { EntityError, RoomWorld, waitedMs, type Entities, type Replication } from "../world/world.ts";

// The registry holds rooms of every join and snapshot type; each room's hooks see only their own.
export type AnyRoom = Room<any, any>;
export type RoomFactory = (ctx: RoomContext) => AnyRoom;
/** What a member of a room of class R brings when it joins (its `Room<Join>`). */
export type JoinOf<R extends AnyRoom> = R extends Room<infer J, any> ? J : never;
/**
 * The join argument of `join` and `joinOrCreate` for a room of class R: `rooms.join<CaveRoom>(client,
 * id, join)` checks `join` against CaveRoom's Join, and may leave it out only where Join allows
 * undefined. Without R, any value (the room's type is known by its name only).
 */
export type JoinArgs<R extends AnyRoom> = undefined extends JoinOf<R> ? [join?: JoinOf<R>] : [join: JoinOf<R>];
export type { RoomFigures };

/** A room as a restart keeps it: its snapshot, and its members with what each brought when it joined. */
export interface SavedRoom {
  type: string;
  id: string;
  snapshot: unknown;
  members: { id: number; join: unknown }[];
}

export interface SavedRooms {
  /** The numbers rooms made without an id have reached, per type. */
  counters: Record<string, number>;
  rooms: SavedRoom[];
}
/**
 * A room type as a game declares it: a factory, or one with a capacity (members at most) and whether it
 * closes (disposes) when its last member leaves (a room of one node; a held session stays a member).
 */
/** The room a client is in: its id and type, what the client brought when it joined, whether it takes world frames. */
export interface Membership {
  id: string;
  type?: string;
  join: unknown;
  frames?: boolean;
}

export type RoomType = RoomFactory | { create: RoomFactory; capacity?: number; closeWhenEmpty?: boolean };

/**
 * What the rooms need of a cluster (shared-rooms.ts implements it): rooms made with an id are shared by
 * the nodes, each run by one owner; a node that does not run one forwards its members' part to it.
 */
export interface RoomSharing {
  /** This node's name, in the ids of the rooms it makes without one. */
  readonly node: string;
  /** Takes in a shared room just made: it starts where it runs, and is followed elsewhere. */
  adopt(instance: SharedRoom): void;
  joined(instance: SharedRoom, clientId: number, join: unknown): void;
  left(instance: SharedRoom, clientId: number, farewell: Uint8Array): void;
  message(instance: SharedRoom, clientId: number, bytes: Uint8Array): void;
  framesTaken(instance: SharedRoom, clientId: number): void;
  direct(instance: SharedRoom, clientId: number, bytes: Uint8Array): void;
  setState(instance: SharedRoom, clientId: number, state: string, arg: unknown): void;
  disposed(instance: SharedRoom, ran: boolean): void;
}

/**
 * What a room shared by the nodes of a cluster keeps of its sharing, which shared-rooms.ts keeps up
 * to date; a room of a server alone has none of it.
 */
export class RoomShare {
  /** On the node that runs the room: the node of each member connected elsewhere. */
  readonly remote = new Map<number, string>();
  /** The node that runs the room (undefined while nobody is known to). */
  owner: string | undefined;
  /** Where another node runs the room: the figures its owner last reported. */
  reported: { figures: RoomFigures; at: number } | undefined;
  /**
   * Whether the room may act now: a shared room's owner that cannot confirm its lease (cut off from
   * Redis, or just woken from a pause) stands still, so that no two nodes run it at once.
   */
  mayAct: () => boolean = () => true;
}

/** A room shared by the nodes of a cluster: one with its share. */
export type SharedRoom = RoomInstance & { readonly share: RoomShare };

export interface RoomsDeps {
  hub: Hub;
  storage: Storage;
  leaderboards: Leaderboards;
  log: Logger;
  seed: number;
  now(): number;
  /** In a cluster: the rooms made with a given id are shared by the nodes, each run by one owner. */
  shared?: RoomSharing;
  /** Bytes a second each client's world frames may take (--view-budget). */
  viewBudget: number;
}

export class RoomInstance implements RoomContext {
  readonly topic: string;
  /** The members that take no world frames (every member, in a room that does not replicate). */
  readonly classicTopic: string;
  readonly classic = {
    publish: (senderId: number, msg: Msg, superseded = false) => this.deps.hub.publish(senderId, msg, this.classicTopic, superseded),
    broadcast: (senderId: number, msg: Msg) => this.deps.hub.broadcast(senderId, msg, this.classicTopic),
  };
  /** Every member, wherever its client is connected. */
  readonly members = new Set<number>();
  /** What each member connected to this node brought when it joined (for a new owner, or a restart). */
  readonly joins = new Map<number, unknown>();
  /** The room's hooks and clock run here: always for a room of this node, only on the owner for a shared one. */
  running = false;
  /** A shared room's sharing (undefined: a room of this node alone). */
  readonly share: RoomShare | undefined;
  readonly log: Logger;
  readonly random: Random;
  readonly room: AnyRoom;
  private readonly timers = new Set<Timer>();
  private readonly ticker: Ticker | undefined;
  /** The room's entities and its members' views, once it replicates (replicate). */
  world: RoomWorld | undefined;
  disposed = false;

  constructor(
    readonly type: string,
    readonly id: string,
    factory: RoomFactory,
    private readonly rooms: Rooms,
    private readonly deps: RoomsDeps,
    shared: boolean,
  ) {
    this.share = shared ? new RoomShare() : undefined;
    this.topic = `room/${id}`;
    this.classicTopic = `room/${id}/classic`;
    this.log = deps.log.child(`Room ${id}: `);
    this.random = seededRandom((deps.seed ^ hashOf(id)) >>> 0);
    this.room = factory(this);
    if (this.room.tickHz > 0) this.ticker = new Ticker(1000 / this.room.tickHz, () => this.mayAct() && this.tick());
  }

  /** Shared by the nodes of a cluster. */
  isShared(): this is SharedRoom {
    return this.share !== undefined;
  }

  /** Whether the room may act now (a shared room's owner stands still while it cannot confirm its lease). */
  mayAct(): boolean {
    return this.share?.mayAct() ?? true;
  }

  private tick(): void {
    const started = performance.now();
    const waitedBefore = this.world && waitedMs();
    this.guard("onTick", () => this.room.onTick());
    if (this.world) this.guard("the world's frames", () => this.world!.flush(started, waitedBefore));
  }

  replicate(replication: Replication): Entities {
    if (this.world) throw new EntityError(`room ${this.id} replicates already: call replicate once`);
    const { hub } = this.deps;
    this.world = new RoomWorld(
      replication,
      { viewBudget: this.deps.viewBudget, tickHz: () => this.room?.tickHz ?? 0 },
      {
        open: (clientId) => !this.share?.remote.has(clientId) && hub.clients.get(clientId)?.open === true,
        send: (clientId, frame) => {
          hub.stats.packetOut("worldFrame", frame.length);
          hub.clients.get(clientId)?.sendBytes(frame);
        },
      },
    );
    return this.world;
  }

  get storage(): Storage {
    return this.deps.storage;
  }

  get leaderboards(): Leaderboards {
    return this.deps.leaderboards;
  }

  now(): number {
    return this.deps.now();
  }

  /** The room runs here from now: onCreate, then its clock. */
  start(): void {
    this.running = true;
    this.world?.becomeOwner();
    this.room.onCreate();
    this.ticker?.start();
  }

  send(clientId: number, msg: Msg, senderId = 0): void {
    if (!this.members.has(clientId)) return;
    if (!this.isShared() || !this.share.remote.has(clientId)) this.deps.hub.clients.get(clientId)?.socketSendAs(msg, senderId);
    else {
      const bytes = encodePacket(senderId, msg);
      this.deps.hub.stats.packetOut(msg.$case, bytes.length);
      this.deps.shared?.direct(this, clientId, bytes);
    }
  }

  broadcast(senderId: number, msg: Msg): void {
    this.deps.hub.broadcast(senderId, msg, this.topic);
  }

  publish(senderId: number, msg: Msg, superseded = false): void {
    this.deps.hub.publish(senderId, msg, this.topic, superseded);
  }

  setState(clientId: number, state: string, arg?: unknown): void {
    if (this.isShared() && this.share.remote.has(clientId)) this.deps.shared?.setState(this, clientId, state, arg);
    else this.deps.hub.clients.get(clientId)?.setState(state, arg);
  }

  setTimeout(run: () => void, ms: number): Timer {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.mayAct()) this.guard("a timer", run);
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  setInterval(run: () => void, ms: number): Timer {
    const timer = setInterval(() => this.mayAct() && this.guard("a timer", run), ms);
    this.timers.add(timer);
    return timer;
  }

  clearTimer(timer: Timer): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  dispose(): void {
    this.rooms.dispose(this.id);
  }

  /** Stops the clock and the timers: the room no longer runs here. */
  halt(): void {
    this.running = false;
    if (this.share) this.world?.becomeReplica();
    this.ticker?.stop();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** A throw in a room's hook is logged and contained: the room and the server go on. */
  guard(what: string, run: () => void): void {
    try {
      run();
    } catch (err) {
      this.log.error(`${what} failed: ${errorText(err)}`);
    }
  }

  /** The room's own figures (`Room.figures`), guarded: undefined when it reports none, or its hook threw. */
  ownFigures(): RoomFigures | undefined {
    let figures: RoomFigures | undefined;
    if (this.room.figures) this.guard("figures", () => (figures = this.room.figures!()));
    return figures;
  }

  /** A member's message, to the room's handler for it (if any): a throw or a rejection drops that packet only. */
  handle(clientId: number, msg: Msg): void {
    const handler = this.room.messages[msg.$case] as ((clientId: number, value: unknown) => void | Promise<void>) | undefined;
    if (!handler || !this.mayAct()) return;
    const failed = (err: unknown) => this.log.error(`A ${msg.$case} packet of client ${clientId} failed: ${errorText(err)}`);
    try {
      const pending = handler(clientId, msg.value);
      if (pending instanceof Promise) pending.catch(failed);
    } catch (err) {
      failed(err);
    }
  }
}

export class Rooms {
  private readonly types = new Map<string, { create: RoomFactory; capacity: number; closeWhenEmpty: boolean }>();
  private readonly instances = new Map<string, RoomInstance>();
  /** Which room each client is in; a client is in one room at most. */
  private readonly roomOf = new Map<number, RoomInstance>();
  private readonly counters = new Map<string, number>();

  constructor(private readonly deps: RoomsDeps) {}

  /** Registers a room type by name (a capacity of 0, or none: no limit). */
  define(type: string, declared: RoomType): void {
    if (this.types.has(type)) throw new Error(`room type ${type} is defined twice`);
    const { create, capacity = 0, closeWhenEmpty = false } = typeof declared === "function" ? { create: declared } : declared;
    if (!Number.isInteger(capacity) || capacity < 0) throw new Error(`room type ${type}: capacity must be a whole number of members, not ${capacity}`);
    this.types.set(type, { create, capacity, closeWhenEmpty });
  }

  /**
   * Makes an instance of `type`, with `id` (or `TYPE-N`, N counting from 1), and starts it. In a
   * cluster, a room made with an id is shared: every node makes it, one runs it (see shared-rooms.ts);
   * one without is this node's own, and its id names the node.
   */
  create<R extends AnyRoom = AnyRoom>(type: string, id?: string): R {
    return this.createInstance(type, id).room as R;
  }

  private createInstance(type: string, id?: string): RoomInstance {
    const factory = this.types.get(type)?.create;
    if (!factory) throw new Error(`no room type named ${type}`);
    let shared: RoomSharing | undefined;
    if (id === undefined) {
      const n = (this.counters.get(type) ?? 0) + 1;
      this.counters.set(type, n);
      id = this.deps.shared ? `${type}-${this.deps.shared.node}-${n}` : `${type}-${n}`;
    } else shared = this.deps.shared;
    if (this.instances.has(id)) throw new Error(`a room ${id} exists already`);
    const instance = new RoomInstance(type, id, factory, this, this.deps, shared !== undefined);
    this.instances.set(id, instance);
    if (shared && instance.isShared()) shared.adopt(instance);
    else instance.start();
    this.deps.log.debug(`Room ${id} created`);
    return instance;
  }

  /** The room of that id, if it exists. */
  get<R extends AnyRoom = AnyRoom>(id: string): R | undefined {
    return this.instances.get(id)?.room as R | undefined;
  }

  /**
   * The room of that id where it runs on this node: undefined where there is none, and in a cluster
   * where another node runs it (what this node holds of it then is an idle copy). For what shows a
   * room's live state, such as a dashboard's map; its figures are `figures(id)`, on any node.
   */
  running<R extends AnyRoom = AnyRoom>(id: string): R | undefined {
    const instance = this.instances.get(id);
    return instance?.running ? (instance.room as R) : undefined;
  }

  /** Every instance of one type, oldest first. */
  *ofType<R extends AnyRoom = AnyRoom>(type: string): IterableIterator<R> {
    for (const instance of this.instances.values()) if (instance.type === type) yield instance.room as R;
  }

  get size(): number {
    return this.instances.size;
  }

  /**
   * The room's figures (`Room.figures`), wherever it runs: its own where it runs here; in a cluster,
   * where another node runs it, as its owner last reported them (the cluster's part of /healthz says
   * which node and how long ago). Undefined: no such room, or no report yet.
   */
  figures(id: string): RoomFigures | undefined {
    const instance = this.instances.get(id);
    if (!instance) return undefined;
    return instance.running ? (instance.ownFigures() ?? {}) : instance.share?.reported?.figures;
  }

  /** The room the client is in and what it brought when it joined, if it is in one. */
  membershipOf(clientId: number): Membership | undefined {
    const instance = this.roomOf.get(clientId);
    if (!instance) return undefined;
    const membership: Membership = { id: instance.id, type: instance.type, join: instance.joins.get(clientId) };
    if (instance.world?.takesFrames(clientId)) membership.frames = true;
    return membership;
  }

  /** Whether the client is in no room, or in one shared by the nodes of a cluster (one that can follow it to another node). */
  movable(clientId: number): boolean {
    const instance = this.roomOf.get(clientId);
    return !instance || instance.isShared();
  }

  /**
   * The client lives on on another node (its session moved there, see resume-link.ts): it is no longer
   * this node's member, and nobody leaves. The room's owner learns where it is from the move itself.
   */
  forget(clientId: number, to: string): void {
    const instance = this.roomOf.get(clientId);
    if (!instance) return;
    this.roomOf.delete(clientId);
    instance.joins.delete(clientId);
    if (instance.running) instance.share?.remote.set(clientId, to);
  }

  /** How many members the room of that id has (0 when there is no such room). */
  memberCount(id: string): number {
    return this.instances.get(id)?.members.size ?? 0;
  }

  /**
   * Puts the client into the first instance of `type` with a free seat (oldest first), or into a new
   * one when all are full; returns the room's id. Without a capacity, every client joins the first.
   * In a cluster, only this node's own rooms (made without an id) are filled this way.
   */
  joinOrCreate<R extends AnyRoom = AnyRoom>(client: ClientInterfacer, type: string, ...[join]: JoinArgs<R>): string {
    const declared = this.types.get(type);
    if (!declared) throw new Error(`no room type named ${type}`);
    let chosen: RoomInstance | undefined;
    for (const instance of this.instances.values()) {
      if (instance.type !== type || instance.share || instance.disposed) continue;
      if (declared.capacity === 0 || instance.members.size < declared.capacity || this.roomOf.get(client.id) === instance) {
        chosen = instance;
        break;
      }
    }
    const id = (chosen ?? this.createInstance(type)).id;
    if (this.roomOf.get(client.id)?.id !== id) this.join(client, id, join as JoinOf<AnyRoom>);
    return id;
  }

  /** The most members a room of the type may hold (0: no limit); throws for an unknown type. */
  capacityOf(type: string): number {
    const declared = this.types.get(type);
    if (!declared) throw new Error(`no room type named ${type}`);
    return declared.capacity;
  }

  /**
   * The id of a room of `type` with a seat for each of `clients` (counting those in it already): the
   * oldest such instance of this node's own, else a new one. The caller puts them in.
   */
  roomWithSeats(type: string, clients: ClientInterfacer[]): string {
    const capacity = this.capacityOf(type);
    for (const instance of this.instances.values()) {
      if (instance.type !== type || instance.share || instance.disposed) continue;
      const arriving = clients.filter((c) => this.roomOf.get(c.id) !== instance).length;
      if (capacity === 0 || instance.members.size + arriving <= capacity) return instance.id;
    }
    return this.createInstance(type).id;
  }

  /** Puts the client into the room (leaving any other first): subscribes it to the topic, then onJoin. */
  join<R extends AnyRoom = AnyRoom>(client: ClientInterfacer, roomId: string, ...[join]: JoinArgs<R>): void {
    const instance = this.instances.get(roomId);
    if (!instance) throw new Error(`no room ${roomId}`);
    this.leave(client);
    instance.members.add(client.id);
    this.roomOf.set(client.id, instance);
    client.subscribe(instance.topic);
    client.subscribe(instance.classicTopic);
    instance.joins.set(client.id, join);
    if (instance.running) instance.room.onJoin(client.id, join);
    else if (instance.isShared()) this.deps.shared?.joined(instance, client.id, join);
  }

  /**
   * Takes the client out of its room, if any: it is unsubscribed, `farewell` goes to every other
   * member as from the client (before anything onLeave does, which may move them elsewhere), then
   * onLeave runs while the client may still be sent to directly.
   */
  leave(client: ClientInterfacer, farewell?: Msg): void {
    const instance = this.roomOf.get(client.id);
    if (!instance) return;
    this.roomOf.delete(client.id);
    client.unsubscribe(instance.topic);
    client.unsubscribe(instance.classicTopic);
    instance.joins.delete(client.id);
    if (!instance.running) {
      // The owner tells the others, once it has taken the member out: nothing of it follows the farewell.
      instance.members.delete(client.id);
      if (instance.isShared()) this.deps.shared?.left(instance, client.id, farewell ? encodePacket(client.id, farewell) : new Uint8Array(0));
      return;
    }
    if (farewell) client.broadcast(farewell, instance.topic);
    instance.guard("onLeave", () => instance.room.onLeave(client.id));
    instance.world?.forget(client.id);
    instance.members.delete(client.id);
    if (instance.members.size === 0 && !instance.share && !instance.disposed && this.types.get(instance.type)?.closeWhenEmpty) this.dispose(instance.id);
  }

  /** The client's connection dropped and its session is held (resume.ts): its room may freeze it. */
  away(client: ClientInterfacer): void {
    const instance = this.roomOf.get(client.id);
    if (instance?.running && instance.room.onAway) instance.guard("onAway", () => instance.room.onAway!(client.id));
  }

  /** The client resumed its session: its room brings it up to date (after the packets kept for it). */
  back(client: ClientInterfacer): void {
    const instance = this.roomOf.get(client.id);
    instance?.world?.resync(client.id);
    if (instance?.running && instance.room.onBack) instance.guard("onBack", () => instance.room.onBack!(client.id));
  }

  /** A member's message for its room; false when the client is in no room or the room does not take it. */
  deliver(client: ClientInterfacer, msg: Msg): boolean {
    const instance = this.roomOf.get(client.id);
    if (msg.$case === "worldFramesRequest") {
      this.startFrames(client, instance, msg.value.viewRadius);
      return true;
    }
    if (!instance?.room.messages[msg.$case]) return false;
    if (instance.running) instance.handle(client.id, msg);
    else if (instance.isShared()) this.deps.shared?.message(instance, client.id, encodePacket(client.id, msg));
    return true;
  }

  /** A client asks for world frames: told the view it gets, or why not. */
  private startFrames(client: ClientInterfacer, instance: RoomInstance | undefined, viewRadius: number): void {
    const refuse = (reason: string) => {
      client.log.info(`Refused world frames: ${reason}`);
      client.socketSendAs({ $case: "worldInfo", value: { ok: false, reason, viewRadius: 0, precision: 0, tickHz: 0, budget: 0 } }, 0);
    };
    const world = instance?.world;
    if (!instance || !world) return refuse(FramesRefusal.notInWorld);
    const refusal = world.startFrames(client.id, viewRadius);
    if (refusal) return refuse(refusal);
    client.unsubscribe(instance.classicTopic);
    // In a cluster this node makes the client's frames from its replica of the world; the owner is told.
    if (!instance.running) {
      if (instance.isShared()) this.deps.shared?.framesTaken(instance, client.id);
    } else if (instance.room.onFrames) instance.guard("onFrames", () => instance.room.onFrames!(client.id));
    client.socketSendAs({ $case: "worldInfo", value: { ok: true, reason: "", ...world.info(client.id) } }, 0);
  }

  /** Broadcasts to the client's room as the client (its chat, its farewell); false when it is in none. */
  broadcastFrom(client: ClientInterfacer, msg: Msg): boolean {
    const instance = this.roomOf.get(client.id);
    if (!instance) return false;
    client.broadcast(msg, instance.topic);
    return true;
  }

  /** Closes a room: every member leaves (onLeave each), then onDispose, then its timers stop. */
  dispose(id: string): void {
    const instance = this.instances.get(id);
    if (!instance || instance.disposed) return;
    instance.disposed = true;
    for (const clientId of [...instance.members]) {
      const client = instance.share?.remote.has(clientId) ? undefined : this.deps.hub.clients.get(clientId);
      if (client) this.leave(client);
      else instance.members.delete(clientId);
    }
    const ran = instance.running;
    if (ran) instance.guard("onDispose", () => instance.room.onDispose());
    instance.halt();
    this.instances.delete(id);
    if (instance.isShared()) this.deps.shared?.disposed(instance, ran);
    this.deps.log.debug(`Room ${id} disposed`);
  }

  disposeAll(): void {
    for (const id of [...this.instances.keys()]) this.dispose(id);
  }

  /** Every room of this node as data (for a restart): its snapshot, its members and what they brought. */
  saveAll(): SavedRooms {
    const rooms: SavedRoom[] = [];
    for (const instance of this.instances.values()) {
      if (instance.disposed || !instance.running || instance.share) continue;
      let snapshot: unknown;
      instance.guard("snapshot", () => (snapshot = instance.room.snapshot()));
      rooms.push({ type: instance.type, id: instance.id, snapshot, members: [...instance.joins].map(([id, join]) => ({ id, join })) });
    }
    return { counters: Object.fromEntries(this.counters), rooms };
  }

  /**
   * Makes the saved rooms again (those the game's start made already are restored in place), without
   * their members: restoreMember puts each back.
   */
  restoreAll(saved: SavedRooms): void {
    for (const [type, n] of Object.entries(saved.counters)) this.counters.set(type, Math.max(n, this.counters.get(type) ?? 0));
    for (const room of saved.rooms) {
      const instance = this.instances.get(room.id) ?? (this.types.has(room.type) ? this.createInstance(room.type, room.id) : undefined);
      if (!instance) {
        this.deps.log.warn(`Room ${room.id} not restored: the game has no room type ${room.type}`);
        continue;
      }
      instance.guard("restore", () => instance.room.restore(room.snapshot));
    }
  }

  /**
   * A member of a restored room, back (its session held, see resume.ts): in the room again, with no
   * onJoin. A shared room this node does not have yet (it had no member here) is made first.
   */
  restoreMember(client: ClientInterfacer, roomId: string, join: unknown, frames = false, type?: string): void {
    if (!this.instances.has(roomId) && type !== undefined && this.deps.shared && this.types.has(type)) this.createInstance(type, roomId);
    const instance = this.instances.get(roomId);
    // A client that took world frames takes them here too, from a whole frame when it is back.
    if (instance && frames) instance.world?.markFrames(client.id);
    if (!instance) return;
    instance.members.add(client.id);
    instance.joins.set(client.id, join);
    this.roomOf.set(client.id, instance);
  }

  /** At a restart that keeps the game: every room's onDispose (to flush what it keeps) and its clock stops; nobody leaves. */
  suspendAll(): void {
    for (const instance of this.instances.values()) {
      if (instance.running) instance.guard("onDispose", () => instance.room.onDispose());
      instance.halt();
    }
    this.instances.clear();
    this.roomOf.clear();
  }
}

/** Why a client gets no world frames (WorldInfoMessage.reason); docs/protocol.md lists them. */
export const FramesRefusal = {
  notInWorld: "Not in a world: log in and enter one first",
} as const;

/** FNV-1a, to give each room its own random sequence from one server seed. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
