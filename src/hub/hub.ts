// The registry of clients and the one place every fan-out goes through, so that a later transport
// between processes needs only this seam.
import type { Logger } from "../log.ts";
import { encodePacket, type Msg } from "../packets/index.ts";
import type { ClientInterfacer } from "./client.ts";
import type { Stats } from "./stats.ts";

/** Publishes to every subscriber of a topic (Bun's `server.publish`). */
export type ServerPublish = (topic: string, bytes: Uint8Array) => void;

/** Carries a broadcast on a topic that spans nodes to the other nodes (a cluster's bus). */
export type TopicRelay = (topic: string, senderId: number, excludeSender: boolean, bytes: Uint8Array, superseded: boolean) => void;

/**
 * Sees every broadcast that reaches this node's subscribers, for the sessions held while their clients
 * are away (see resume.ts); `superseded` marks a room's per-tick state, which the next tick replaces;
 * `local`: this node said it (it did not come from another node).
 */
export type TopicTap = (topic: string, senderId: number, excludeSender: boolean, bytes: Uint8Array, superseded: boolean, local: boolean) => void;

/**
 * How many slices a sliced topic has. A subscriber joins one, by its id; a broadcast goes to one slice
 * a turn of the event loop, so that the native fan-out's writes to a topic of a thousand sockets come
 * in eight runs with the loop's other work (a lobby chat, a tick) between them, not in one.
 */
export const TOPIC_SLICES = 8;

/** A broadcast on a sliced topic whose slices are not all published yet. */
interface SlicedBroadcast {
  topic: string;
  next: number;
  senderId: number;
  excludeSender: boolean;
  bytes: Uint8Array;
  superseded: boolean;
  local: boolean;
}

/** Where ids come from: undefined when none can be given now (a cluster node cut off from Redis for long). */
export type IdSource = () => number | undefined;

/** A server on its own: ids from 1 (or after `last`, for a server that restarted), counted in the process. */
export function localIds(last = 0): IdSource {
  return () => ++last;
}

export class Hub<C extends ClientInterfacer = ClientInterfacer> {
  readonly clients = new Map<number, C>();
  private serverPublish: ServerPublish | undefined;
  /** Topics whose subscribers may be on any node of a cluster: their broadcasts are relayed. */
  private readonly spanning = new Set<string>();
  /** Prefixes of topics that span the nodes (a player's own topic, whichever node it is on). */
  private readonly spanningPrefixes: string[] = [];
  /** Prefixes of topics published a slice a turn (`sliceOf`), and the broadcasts under way on them. */
  private readonly slicedPrefixes: string[] = [];
  private readonly slicing: SlicedBroadcast[] = [];
  /** Set only while some session is held: clients that never ask for resumption cost nothing here. */
  private topicTap: TopicTap | undefined;
  /** The highest id given or adopted, for a restart to continue after. */
  private highest = 0;

  constructor(
    private readonly log: Logger,
    readonly stats: Stats,
    private readonly ids: IdSource = localIds(),
    /** In a cluster: the bus, which carries the broadcasts of topics that span the nodes. */
    private readonly relay?: TopicRelay,
  ) {}

  /** Connects the hub to the server's own publish, for packets the server originates. */
  attach(serverPublish: ServerPublish): void {
    this.serverPublish = serverPublish;
  }

  /** Starts (or with undefined, stops) showing every broadcast to `tap`. */
  tap(tap: TopicTap | undefined): void {
    this.topicTap = tap;
  }

  /** Makes `topic` span the nodes of a cluster (a no-op on a server alone). */
  span(topic: string): void {
    this.spanning.add(topic);
  }

  unspan(topic: string): void {
    this.spanning.delete(topic);
  }

  /** Makes every topic that starts with `prefix` span the nodes of a cluster. */
  spanPrefix(prefix: string): void {
    this.spanningPrefixes.push(prefix);
  }

  private spans(topic: string): boolean {
    return this.spanning.has(topic) || this.spanningPrefixes.some((prefix) => topic.startsWith(prefix));
  }

  /**
   * Makes every topic that starts with `prefix` sliced: its subscribers subscribe to `sliceOf(topic,
   * id)`, and a broadcast on it reaches one slice a turn of the event loop (a channel of thousands).
   * A slice follows the slices before it, and broadcasts on a topic keep their order in every slice.
   */
  slicePrefix(prefix: string): void {
    this.slicedPrefixes.push(prefix);
  }

  /** The topic a client subscribes to for `topic`: its slice of it, when the topic is sliced. */
  sliceOf(topic: string, clientId: number): string {
    return this.sliced(topic) ? `${topic}#${clientId % TOPIC_SLICES}` : topic;
  }

  private sliced(topic: string): boolean {
    return this.slicedPrefixes.some((prefix) => topic.startsWith(prefix));
  }

  get size(): number {
    return this.clients.size;
  }

  /**
   * Gives the client the next id (never reused, never 0) and lets it enter its first state; undefined
   * when no id can be given now.
   */
  register(client: C): number | undefined {
    const id = this.ids();
    if (id === undefined) return undefined;
    this.highest = Math.max(this.highest, id);
    this.clients.set(id, client);
    client.initialize(id);
    return id;
  }

  /** A client restored with the id it had (a restart that kept the game). */
  adopt(client: C): void {
    this.highest = Math.max(this.highest, client.id);
    this.clients.set(client.id, client);
  }

  get highestId(): number {
    return this.highest;
  }

  /** Removes the client; true only the first time for a given id. */
  unregister(id: number): boolean {
    const removed = this.clients.delete(id);
    if (removed) this.log.debug(`Client ${id} unregistered, ${this.clients.size} remain`);
    return removed;
  }

  /**
   * Encodes the packet once and lets the native pub/sub copy it to every subscriber of `topic` but the
   * sender. Sender 0 is the server itself, whose packets reach every subscriber.
   */
  broadcast(senderId: number, msg: Msg, topic: string, superseded = false): void {
    const bytes = encodePacket(senderId, msg);
    this.stats.packetOut(msg.$case, bytes.length);
    this.publishLocally(topic, senderId, senderId !== 0, bytes, superseded);
    if (this.relay && this.spans(topic)) this.relay(topic, senderId, senderId !== 0, bytes, superseded);
  }

  /** A broadcast from another node of the cluster: to this node's subscribers of the topic, but the sender. */
  relayed(topic: string, senderId: number, excludeSender: boolean, bytes: Uint8Array): void {
    this.stats.relayedIn++;
    this.publishLocally(topic, senderId, excludeSender, bytes, false, false);
  }

  /** An already encoded broadcast, as from `senderId`, here and on every node (a member's farewell relayed to its room's owner). */
  forward(topic: string, senderId: number, bytes: Uint8Array): void {
    this.publishLocally(topic, senderId, true, bytes);
    if (this.relay && this.spans(topic)) this.relay(topic, senderId, true, bytes, false);
  }

  private publishLocally(topic: string, senderId: number, excludeSender: boolean, bytes: Uint8Array, superseded = false, local = true): void {
    if (!this.sliced(topic)) return this.publishHere(topic, senderId, excludeSender, bytes, superseded, local);
    this.slicing.push({ topic, next: 0, senderId, excludeSender, bytes, superseded, local });
    if (this.slicing.length === 1) this.publishSlices();
  }

  /** The next slice of every sliced broadcast under way, then again on the next turn while any is left. */
  private publishSlices(): void {
    for (const b of this.slicing) this.publishHere(`${b.topic}#${b.next++}`, b.senderId, b.excludeSender, b.bytes, b.superseded, b.local);
    // The oldest started first, so they also finish first.
    while (this.slicing.length > 0 && this.slicing[0]!.next === TOPIC_SLICES) this.slicing.shift();
    if (this.slicing.length > 0) setImmediate(() => this.publishSlices());
  }

  private publishHere(topic: string, senderId: number, excludeSender: boolean, bytes: Uint8Array, superseded: boolean, local: boolean): void {
    this.topicTap?.(topic, senderId, excludeSender, bytes, superseded, local);
    const sender = excludeSender ? this.clients.get(senderId) : undefined;
    // A closing socket can no longer publish; it has already left every topic, so the server's
    // publish still reaches exactly the others.
    if (sender?.publish(topic, bytes)) return;
    this.serverPublish?.(topic, bytes);
  }

  /** Already encoded bytes to every subscriber of `topic`, here and on every node (the topic spanning them). */
  publishBytes(topic: string, bytes: Uint8Array): void {
    this.publishLocally(topic, 0, false, bytes);
    if (this.relay && this.spans(topic)) this.relay(topic, 0, false, bytes, false);
  }

  /**
   * Encodes once and publishes to every subscriber of `topic`, the sender's own socket included;
   * `superseded`: state the next tick replaces (not kept for a held session).
   */
  publish(senderId: number, msg: Msg, topic: string, superseded = false): void {
    const bytes = encodePacket(senderId, msg);
    this.stats.packetOut(msg.$case, bytes.length);
    this.publishLocally(topic, senderId, false, bytes, superseded);
    if (this.relay && this.spans(topic)) this.relay(topic, senderId, false, bytes, superseded);
  }
}
