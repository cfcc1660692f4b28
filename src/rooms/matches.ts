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

/**
 * A member of a match: a client of a node; `party`: it came in its party's entry (its node did not
 * queue it); a party member on another node than its leader's is named by its account (`userId`, node
 * ANY_NODE), and found by whichever node it is logged in on.
 */
export interface MatchMember {
  node: string;
  clientId: number;
  party?: boolean;
  userId?: number;
}

/** The node of a member named by its account: whichever node it is on. */
export const ANY_NODE = "*";

/** A match made in a cluster, told to every node. */
export interface MatchMade {
  queue: string;
  room: string;
  members: MatchMember[];
}

/** The cluster's part (matches-link in server/cluster-link.ts): the queues in Redis, and the news of a match to every node. */
export interface SharedQueues {
  readonly node: string;
  /** Adds the entry (of `members`: a party's); resolves to the `size` members of a match it completed, or to none. */
  enqueue(queue: string, filter: string, clientId: number, size: number, members: MatchMember[]): Promise<MatchMember[]>;
  remove(queue: string, filter: string, clientId: number): Promise<void>;
  /** Tells every node (this one included) of a match. */
  announce(match: MatchMade): void;
}

/** How long an entry waits in a queue before it no longer counts (the player asks again to stay). */
export const QUEUE_ENTRY_TTL_MS = 60_000;

export class Matches {
  private readonly queues = new Map<string, QueueSpec>();
  /** Who waits here, in which queue and with which filter; a party's members share their leader's entry. */
  private readonly waiting = new Map<ClientInterfacer, { queue: string; filter: string; entry: ClientInterfacer[] }>();
  /** On a server alone: the queues' entries (a player, or a party), oldest first. */
  private readonly local = new Map<string, ClientInterfacer[][]>();
  private matchCount = 0;

  constructor(
    private readonly rooms: Rooms,
    private readonly hub: Hub,
    private readonly log: Logger,
    private readonly shared: SharedQueues | undefined,
    /** The client of the account logged in on this node, if any (for party members named by account). */
    private readonly clientOfUser: (userId: number) => ClientInterfacer | undefined = () => undefined,
  ) {}

  /** Declares a queue (in the game's create). */
  define(name: string, spec: QueueSpec): void {
    if (this.queues.has(name)) throw new Error(`queue ${name} is defined twice`);
    if (!Number.isInteger(spec.size) || spec.size < 1) throw new Error(`queue ${name}: size must be a whole number of players`);
    this.queues.set(name, spec);
  }

  /** The players a match of the queue takes; throws for an unknown queue. */
  sizeOf(queue: string): number {
    const spec = this.queues.get(queue);
    if (!spec) throw new Error(`no queue named ${queue}`);
    return spec.size;
  }

  /** Players waiting on this node. */
  get waitingHere(): number {
    return this.waiting.size;
  }

  /** Puts the client into the queue (once: asking again changes nothing); it is matched when the queue has enough players. */
  ask(queue: string, client: ClientInterfacer, filter = ""): void {
    if (this.waiting.has(client)) return;
    this.askTogether(queue, [client], filter);
  }

  /**
   * Puts a party into the queue as one entry, which a match takes whole or not at all: its members on
   * this node (the first asks), and in a cluster those on `elsewhere` nodes, whose nodes put them into
   * the match's room as their queue's onMatched. Members waiting in a queue already leave it first.
   */
  askTogether(queue: string, here: ClientInterfacer[], filter = "", elsewhere: MatchMember[] = []): void {
    const spec = this.queues.get(queue);
    if (!spec) throw new Error(`no queue named ${queue}`);
    if (here.length + elsewhere.length > spec.size) throw new Error(`queue ${queue}: an entry of ${here.length + elsewhere.length} does not fit a match of ${spec.size}`);
    for (const client of here) this.cancel(client);
    const entry = [...here];
    for (const client of here) this.waiting.set(client, { queue, filter, entry });
    if (!this.shared) return this.askHere(queue, spec, entry, filter);
    const party = here.length + elsewhere.length > 1;
    const members = [...here.map((c) => ({ node: this.shared!.node, clientId: c.id })), ...elsewhere].map((m) => (party ? { ...m, party } : m));
    const first = here[0]!;
    void this.shared.enqueue(queue, filter, first.id, spec.size, members).then(
      (matched) => {
        if (matched.length === 0) return;
        this.shared!.announce({ queue, room: `${spec.type}-m-${crypto.randomUUID().slice(0, 8)}`, members: matched });
      },
      (err: unknown) => {
        for (const client of here) this.waiting.delete(client);
        this.log.warn(`Matchmaking: client ${first.id} could not join queue ${queue}: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  }

  /** Takes the client out of any queue (it left the state that waits, or its connection), and its party's entry with it. */
  cancel(client: ClientInterfacer): void {
    const waiting = this.waiting.get(client);
    if (!waiting) return;
    for (const member of waiting.entry) this.waiting.delete(member);
    if (!this.shared) {
      const list = this.local.get(`${waiting.queue}\u0000${waiting.filter}`);
      if (list) list.splice(list.indexOf(waiting.entry) >>> 0, 1);
      return;
    }
    void this.shared.remove(waiting.queue, waiting.filter, waiting.entry[0]!.id).catch(() => undefined);
  }

  /** A match (made on any node): this node's matched players go into its room, made here too if they are any. */
  made(match: MatchMade): void {
    const spec = this.queues.get(match.queue);
    if (!spec) return;
    // Only a node with players of the match makes its room (and so does Redis work for it).
    const here: ClientInterfacer[] = [];
    for (const { node, clientId, party, userId } of match.members) {
      if (node !== this.shared?.node && node !== ANY_NODE) continue;
      const client = userId !== undefined ? this.clientOfUser(userId) : this.hub.clients.get(clientId);
      if (!client || !(this.waiting.has(client) || party)) continue;
      this.waiting.delete(client);
      here.push(client);
    }
    if (here.length === 0) return;
    if (!this.rooms.get(match.room)) this.rooms.create(spec.type, match.room);
    for (const client of here) spec.onMatched(client, match.room);
  }

  private askHere(queue: string, spec: QueueSpec, entry: ClientInterfacer[], filter: string): void {
    const key = `${queue}\u0000${filter}`;
    const list = this.local.get(key) ?? [];
    this.local.set(key, list);
    list.push(entry);
    const taken = completed(list, spec.size);
    if (!taken) return;
    for (const waiting of taken) list.splice(list.indexOf(waiting), 1);
    const room = `${spec.type}-m${++this.matchCount}`;
    this.rooms.create(spec.type, room);
    for (const player of taken.flat()) {
      this.waiting.delete(player);
      spec.onMatched(player, room);
    }
  }
}

/**
 * The entries of a match, if the queue holds one: the oldest entry that can be completed, with the
 * oldest others that fit beside it (a party is not kept waiting behind a player alone it cannot join).
 */
function completed<T>(entries: T[][], size: number): T[][] | undefined {
  for (const first of entries) {
    const taken = [first];
    let count = first.length;
    for (const other of entries) {
      if (count >= size) break;
      if (other === first || count + other.length > size) continue;
      taken.push(other);
      count += other.length;
    }
    if (count === size) return taken;
  }
  return undefined;
}
