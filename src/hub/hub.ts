// The registry of clients and the one place every fan-out goes through, so that a later transport
// between processes needs only this seam.
import type { Logger } from "../log.ts";
import { encodePacket, type Msg } from "../packets/index.ts";
import type { ClientInterfacer } from "./client.ts";
import type { Stats } from "./stats.ts";

/** Publishes to every subscriber of a topic (Bun's `server.publish`). */
export type ServerPublish = (topic: string, bytes: Uint8Array) => void;

/** Where ids come from: undefined when none can be given now (a cluster node cut off from Redis for long). */
export type IdSource = () => number | undefined;

/** A server on its own: ids from 1, counted in the process. */
export function localIds(): IdSource {
  let last = 0;
  return () => ++last;
}

export class Hub<C extends ClientInterfacer = ClientInterfacer> {
  readonly clients = new Map<number, C>();
  private serverPublish: ServerPublish | undefined;

  constructor(
    private readonly log: Logger,
    readonly stats: Stats,
    private readonly ids: IdSource = localIds(),
  ) {}

  /** Connects the hub to the server's own publish, for packets the server originates. */
  attach(serverPublish: ServerPublish): void {
    this.serverPublish = serverPublish;
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
    this.clients.set(id, client);
    client.initialize(id);
    return id;
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
  broadcast(senderId: number, msg: Msg, topic: string): void {
    const bytes = encodePacket(senderId, msg);
    this.stats.packetOut(msg.$case, bytes.length);
    const sender = senderId === 0 ? undefined : this.clients.get(senderId);
    // A closing socket can no longer publish; it has already left every topic, so the server's
    // publish still reaches exactly the others.
    if (sender?.publish(topic, bytes)) return;
    this.serverPublish?.(topic, bytes);
  }

  /** Encodes once and publishes to every subscriber of `topic`, the sender's own socket included. */
  publish(senderId: number, msg: Msg, topic: string): void {
    const bytes = encodePacket(senderId, msg);
    this.stats.packetOut(msg.$case, bytes.length);
    this.serverPublish?.(topic, bytes);
  }
}
