// What friends, channels and parties share: the players logged in on this node (a session each, with
// its own queue so that a player's requests are answered in order), where a player is online, and the
// way to reach one. Every logged-in client listens on its player's own topic, which spans the nodes of a
// cluster: whatever node a request is handled on, a publish there reaches the player wherever it is.
import type { ChatGate } from "../hub/chat.ts";
import type { ClientInterfacer } from "../hub/client.ts";
import type { Hub } from "../hub/hub.ts";
import { TokenBucket } from "../rate.ts";
import { errorText, type Logger } from "../log.ts";
import { encodePacket, type Msg } from "../packets/index.ts";
import type { Account, FriendRow, Store } from "../store/store.ts";
import type { Matches } from "../rooms/matches.ts";
import type { Rooms } from "../rooms/rooms.ts";
import type { FriendLimits } from "./friends.ts";

/** A player's own topic: its sockets, on whichever node. */
export const PLAYER_TOPIC_PREFIX = "u:";
export const playerTopic = (userId: number) => `${PLAYER_TOPIC_PREFIX}${userId}`;

/** Where players are online, across the nodes of a cluster, and the status each shows its friends. */
export interface PresenceDirectory {
  /**
   * Counts the changes a lookup could see, where the directory knows them all (a server alone): a
   * friends list built at one count holds until the next. Undefined in a cluster.
   */
  readonly version?: number;
  /** A player of this node came online or changed its status (a string), or went offline (undefined). */
  set(userId: number, status: string | undefined): void;
  /** The players of `userIds` that are online anywhere, with their status. */
  lookup(userIds: number[]): Promise<Map<number, string>>;
  /** A player of this node moved to another (a resume there): this node no longer answers for it. */
  movedAway(userId: number): void;
}

/** Presence on a server alone: its own players. */
export class LocalPresence implements PresenceDirectory {
  private readonly statuses = new Map<number, string>();
  version = 0;

  set(userId: number, status: string | undefined): void {
    this.version++;
    if (status === undefined) this.statuses.delete(userId);
    else this.statuses.set(userId, status);
  }

  movedAway(userId: number): void {
    this.set(userId, undefined);
  }

  async lookup(userIds: number[]): Promise<Map<number, string>> {
    const online = new Map<number, string>();
    for (const id of userIds) {
      const status = this.statuses.get(id);
      if (status !== undefined) online.set(id, status);
    }
    return online;
  }
}

export interface PlayersLimits extends FriendLimits {
  /** Members a party may have. */
  maxPartySize: number;
  /** Channels a player may be in at once. */
  maxChannels: number;
  /** Lines of history kept per channel (and per pair of players' direct messages). */
  historyKeep: number;
  /** Requests (friends, parties, channels' joins and history) a player may make a second, and at once. */
  requestRate: number;
  requestBurst: number;
}

export const DEFAULT_PLAYERS_LIMITS: PlayersLimits = {
  maxFriends: 500,
  maxPending: 100,
  maxPartySize: 8,
  maxChannels: 10,
  historyKeep: 200,
  requestRate: 5,
  requestBurst: 20,
};

/** The refusals every part shares, word for word (docs/protocol.md). */
export const PlayersReason = {
  loginFirst: "Log in first",
  slowDown: "Too many requests: slow down",
  unknownPlayer: "No such player",
} as const;

export interface PlayersDeps {
  store: Store;
  hub: Hub;
  log: Logger;
  presence: PresenceDirectory;
  /** The chat's rules (length, rate, an operator's mute), for channel lines. */
  chat: ChatGate;
  limits: PlayersLimits;
  /** Signs party invitations: the same on every node of a cluster. */
  inviteKey: string;
  /** Milliseconds since the epoch. */
  clock(): number;
  /** performance.now(), for rates. */
  now(): number;
  /** In a cluster: tells the other nodes that these players' friends lists changed (none named: anyone's may have). */
  friendsChanged?(userIds: number[]): void;
  /** Where a party moves (party-moves.ts): the rooms, the queues, and in a cluster the other nodes. */
  rooms: Rooms;
  matches: Matches;
  partyMoves?: { node: string; announce(move: PartyMove): void };
}

/** A party's move told to the other nodes (party-moves.ts): their players of `users` go into `room` (made there too if need be). */
export interface PartyMove {
  room: string;
  roomType: string;
  users: number[];
}

/** A notification as a game sends one (ctx.players.notify). */
export interface Notice {
  kind: string;
  subject: string;
  content: string;
  /** The player it comes from (0: the game). */
  senderId?: number;
}

/** A player logged in on this node. */
export interface PlayerSession {
  client: ClientInterfacer;
  account: Account;
  status: string;
  channels: Set<string>;
  requests: TokenBucket;
  /** The player's requests, one after another. */
  queue: Promise<void>;
  /** Its friends list and mutes as the store has them, read once and kept until they change. */
  friends?: { rows: FriendRow[]; muted: number[] };
  /** Counts the changes of its list, so that a read the store answered before a change is not kept. */
  friendsVersion: number;
  /** The friends_list last sent, and the presence version it was built at. */
  list?: { bytes: Uint8Array; presence: number };
}

export class PlayersCore {
  /** This node's logged-in players, by user id. */
  readonly sessions = new Map<number, PlayerSession>();

  constructor(readonly deps: PlayersDeps) {}

  sessionOf(client: ClientInterfacer): PlayerSession | undefined {
    const account = client.account;
    const session = account && this.sessions.get(account.userId);
    return session?.client === client ? session : undefined;
  }

  open(client: ClientInterfacer, account: Account): PlayerSession {
    const { requestRate, requestBurst } = this.deps.limits;
    const session: PlayerSession = { client, account, status: "", channels: new Set(), requests: new TokenBucket(requestRate, requestBurst, this.deps.now()), queue: Promise.resolve(), friendsVersion: 0 };
    this.sessions.set(account.userId, session);
    return session;
  }

  /**
   * Runs the player's request after those before it, if its rate allows (else `refuse` answers); a
   * request that throws is logged and answered by `failed`.
   */
  request(client: ClientInterfacer, refuse: (reason: string) => void, failed: () => void, run: (session: PlayerSession) => Promise<void>, rated = true): void {
    const session = this.sessionOf(client);
    if (!session) return refuse(PlayersReason.loginFirst);
    if (rated && !session.requests.take(this.deps.now())) return refuse(PlayersReason.slowDown);
    session.queue = session.queue.then(() =>
      run(session).catch((err: unknown) => {
        client.log.error(`A request of account ${session.account.userId} failed: ${errorText(err)}`);
        failed();
      }),
    );
  }

  /** The player's friends list and mutes, from its session's copy, else from the store. */
  async friendsOf(session: PlayerSession): Promise<{ rows: FriendRow[]; muted: number[] }> {
    if (session.friends) return session.friends;
    const { social } = this.deps.store;
    const version = session.friendsVersion;
    const [rows, muted] = await Promise.all([social.friendsOf(session.account.userId), social.ignoresOf(session.account.userId)]);
    // A change while reading: what was read may be from before it, and is not kept.
    if (this.sessions.get(session.account.userId) === session && session.friendsVersion === version) session.friends = { rows, muted };
    return { rows, muted };
  }

  /** These players' friends lists (none named: everyone's) changed: the copies here are dropped. */
  dropFriends(userIds: number[]): void {
    const sessions = userIds.length === 0 ? this.sessions.values() : userIds.map((id) => this.sessions.get(id));
    for (const session of sessions) {
      if (!session) continue;
      session.friends = undefined;
      session.list = undefined;
      session.friendsVersion++;
    }
  }

  /** These players' friends lists changed here: dropped here and on the other nodes. */
  friendsChanged(userIds: number[]): void {
    this.dropFriends(userIds);
    this.deps.friendsChanged?.(userIds);
  }

  /** Sends to the player's sockets, wherever it is logged in. */
  toPlayer(userId: number, msg: Msg): void {
    this.deps.hub.publish(0, msg, playerTopic(userId));
  }

  /** Sends one message to several players, encoded once. */
  toPlayers(userIds: Iterable<number>, msg: Msg): void {
    const bytes = encodePacket(0, msg);
    this.deps.hub.stats.packetOut(msg.$case, bytes.length);
    for (const id of userIds) this.deps.hub.publishBytes(playerTopic(id), bytes);
  }

  /** The account a request names: by id, or (id 0) by display name or username; undefined when none. */
  async resolve(userId: number, name: string): Promise<{ userId: number; name: string } | undefined> {
    const query = userId !== 0 ? { id: userId } : name !== "" && Buffer.byteLength(name) <= 64 ? { name } : undefined;
    if (!query) return undefined;
    const [found] = await this.deps.store.findPlayers(query);
    return found && { userId: found.userId, name: found.name };
  }
}
