// Matchmaking: queues a game declares (a room type and how many players a match takes), filled by the
// players who ask, optionally by a filter (a mode, a region: only players who ask with the same one
// meet). A full queue makes a room of its type, and each matched player's node hands it to the game's
// onMatched. On a server alone the queue is in memory; in a cluster it is in Redis, so players who ask
// on different nodes meet, in a room shared by the nodes (one owner, like the world), each entry with
// an expiry, a dead node's entries skipped, and an entry taken by one match only.
import type { ClientInterfacer } from "../hub/client.ts";
import type { Hub } from "../hub/hub.ts";
import type { Logger } from "../log.ts";
import type { Rooms } from "./rooms.ts";

export interface QueueSpec {
  /** The room type a match is made of. */
  type: string;
  /** Players a match takes. */
  size: number;
  /** A matched player, on its own node: put it into the room (usually a state whose onEnter joins it). */
  onMatched(client: ClientInterfacer, roomId: string): void;
}

/** A match made in a cluster, told to every node. */
export interface MatchMade {
  queue: string;
  room: string;
  members: { node: string; clientId: number }[];
}

/** The cluster's part (matches-link in server/cluster-link.ts): the queues in Redis, and the news of a match to every node. */
export interface SharedQueues {
  readonly node: string;
  /** Adds the entry; resolves to the `size` entries of a match it completed, or to none. */
  enqueue(queue: string, filter: string, clientId: number, size: number): Promise<{ node: string; clientId: number }[]>;
  remove(queue: string, filter: string, clientId: number): Promise<void>;
  /** Tells every node (this one included) of a match. */
  announce(match: MatchMade): void;
}

/** How long an entry waits in a queue before it no longer counts (the player asks again to stay). */
export const QUEUE_ENTRY_TTL_MS = 60_000;

export class Matches {
  private readonly queues = new Map<string, QueueSpec>();
  /** Who waits here, in which queue and with which filter. */
  private readonly waiting = new Map<ClientInterfacer, { queue: string; filter: string }>();
  /** On a server alone: the queues' entries, oldest first. */
  private readonly local = new Map<string, ClientInterfacer[]>();
  private matchCount = 0;

  constructor(
    private readonly rooms: Rooms,
    private readonly hub: Hub,
    private readonly log: Logger,
    private readonly shared: SharedQueues | undefined,
  ) {}

  /** Declares a queue (in the game's create). */
  define(name: string, spec: QueueSpec): void {
    if (this.queues.has(name)) throw new Error(`queue ${name} is defined twice`);
    if (!Number.isInteger(spec.size) || spec.size < 1) throw new Error(`queue ${name}: size must be a whole number of players`);
    this.queues.set(name, spec);
  }

  /** Players waiting on this node. */
  get waitingHere(): number {
    return this.waiting.size;
  }

  /** Puts the client into the queue (once: asking again changes nothing); it is matched when the queue has enough players. */
  ask(queue: string, client: ClientInterfacer, filter = ""): void {
    const spec = this.queues.get(queue);
    if (!spec) throw new Error(`no queue named ${queue}`);
    if (this.waiting.has(client)) return;
    this.waiting.set(client, { queue, filter });
    if (!this.shared) return this.askHere(queue, spec, client, filter);
    void this.shared.enqueue(queue, filter, client.id, spec.size).then(
      (entries) => {
        if (entries.length === 0) return;
        this.shared!.announce({ queue, room: `${spec.type}-m-${crypto.randomUUID().slice(0, 8)}`, members: entries });
      },
      (err: unknown) => {
        this.waiting.delete(client);
        this.log.warn(`Matchmaking: client ${client.id} could not join queue ${queue}: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  }

  /** Takes the client out of any queue (it left the state that waits, or its connection). */
  cancel(client: ClientInterfacer): void {
    const entry = this.waiting.get(client);
    if (!entry) return;
    this.waiting.delete(client);
    if (!this.shared) {
      const list = this.local.get(`${entry.queue}\u0000${entry.filter}`);
      if (list) list.splice(list.indexOf(client) >>> 0, 1);
      return;
    }
    void this.shared.remove(entry.queue, entry.filter, client.id).catch(() => undefined);
  }

  /** A match (made on any node): the room is made here too, and this node's matched players go into it. */
  made(match: MatchMade): void {
    const spec = this.queues.get(match.queue);
    if (!spec) return;
    if (!this.rooms.get(match.room)) this.rooms.create(spec.type, match.room);
    for (const { node, clientId } of match.members) {
      if (node !== this.shared?.node) continue;
      const client = this.hub.clients.get(clientId);
      if (!client || !this.waiting.has(client)) continue;
      this.waiting.delete(client);
      spec.onMatched(client, match.room);
    }
  }

  private askHere(queue: string, spec: QueueSpec, client: ClientInterfacer, filter: string): void {
    const key = `${queue}\u0000${filter}`;
    const list = this.local.get(key) ?? [];
    this.local.set(key, list);
    list.push(client);
    if (list.length < spec.size) return;
    const players = list.splice(0, spec.size);
    const room = `${spec.type}-m${++this.matchCount}`;
    this.rooms.create(spec.type, room);
    for (const player of players) {
      this.waiting.delete(player);
      spec.onMatched(player, room);
    }
  }
}
