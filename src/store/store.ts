// What the server keeps between runs: accounts, games' storage objects and leaderboard records. Two
// backends with the same behaviour: SQLite in the data folder (the embedded default) and PostgreSQL
// (one database several machines share), chosen by `--database-url`. Games see the objects through
// storage.ts and the boards, served from memory, through leaderboards.ts.
import type { ObjectRef, WriteResult } from "./objects.ts";

export interface Account {
  userId: number;
  /** An operator's mute, read at login and kept up to date by the operator's actions. */
  mute?: Ban;
  passwordHash: string;
  /** The series' player row of the account (its name and colour). */
  playerId: number;
  name: string;
  color: number;
}

/** What an operator may put on an account: a ban (no login) or a mute (no chat), each its table. */
export type Sanction = "bans" | "mutes";

/** An operator's ban (or mute) of an account: until a time (ms since the epoch), or for good (until 0). */
export interface Ban {
  reason: string;
  until: number;
  operator: string;
  at: number;
}

/** One action of an operator, as the audit log keeps it (before and after as JSON, or null). */
export interface AuditEntry {
  id: number;
  at: number;
  operator: string;
  action: string;
  target: number;
  before: string | null;
  after: string | null;
}

/** An account as an operator finds it. */
export interface PlayerRecord {
  userId: number;
  username: string;
  name: string;
  color: number;
  /** The ids of the devices linked to it. */
  devices: string[];
}

/** createAccount's answer when the name is taken (names are unique case-insensitively). */
export class UserExistsError extends Error {}

/** createIdentityAccount's answer when the identity names an account already (two first logins at once). */
export class IdentityExistsError extends Error {}

/**
 * A way into an account besides its username and password: a device ("device", the device's id) or a
 * game's provider (its name, the id it gives the player). Each names one account.
 */
export interface Identity {
  provider: string;
  subject: string;
}

/** The store cannot be opened at start; the message names the file or the database, never a password. */
export class StoreOpenError extends Error {}

export interface Store {
  /** What it is, for the log: the SQLite file, or the PostgreSQL URL with its password masked. */
  readonly description: string;
  readonly schemaVersion: number;
  findAccount(username: string): Promise<Account | undefined>;
  /** Stores a user (name lower-cased) and its player (name as typed) at once; rejects with UserExistsError. */
  createAccount(username: string, passwordHash: string, color: number): Promise<Account>;
  /** The account an identity names, if any. */
  findIdentity(identity: Identity): Promise<Account | undefined>;
  /**
   * Stores an account without a password (its username one no login can use, its player named
   * `displayName`) and the identity that names it, at once; rejects with IdentityExistsError when the
   * identity names an account already, UserExistsError when the username is taken.
   */
  createIdentityAccount(identity: Identity, username: string, displayName: string, color: number): Promise<Account>;
  /**
   * Gives an account without a password (one made by an identity) a username and a password hash;
   * false when it has a password already; rejects with UserExistsError when the username is taken.
   */
  setCredentials(userId: number, username: string, passwordHash: string): Promise<boolean>;
  /** Accounts by user id, login name or display name (case-insensitive, exact), or linked device; at most 50. */
  findPlayers(query: { id?: number; name?: string; device?: string }): Promise<PlayerRecord[]>;
  /** The account's ban (kind "bans") or mute ("mutes"), if it has one. */
  banOf(userId: number, kind?: Sanction): Promise<Ban | undefined>;
  /** Bans (or mutes) the account, replacing what it had, or with undefined lifts it. */
  setBan(userId: number, ban: Ban | undefined, kind?: Sanction): Promise<void>;
  /** Appends an operator's action to the audit log. */
  audit(entry: Omit<AuditEntry, "id">): Promise<void>;
  /** The newest entries of the audit log first, at most `limit`. */
  auditLog(limit: number): Promise<AuditEntry[]>;
  /** Renames the account's player (its display name). */
  setDisplayName(playerId: number, name: string): Promise<void>;
  /** Links an identity to an account; rejects with IdentityExistsError when it names an account already. */
  linkIdentity(userId: number, identity: Identity): Promise<void>;
  /**
   * Unlinks an identity from the account, in one transaction: "unknown" when it does not name this
   * account, "last" when it is the account's last way in (no password, no other identity).
   */
  unlinkIdentity(userId: number, identity: Identity): Promise<"ok" | "unknown" | "last">;
  readonly objects: ObjectBackend;
  readonly boards: BoardBackend;
  readonly social: SocialBackend;
  /** Writes what is queued, then closes. */
  close(): Promise<void>;
}

export type BoardOrder = "desc" | "asc";
/** best: the better of the record and the submission; set: the submission; increment: their sum. */
export type BoardOperator = "best" | "set" | "increment";

/** A leaderboard record as the store has it. */
export interface RecordRow {
  board: string;
  owner: number;
  name: string;
  score: number;
  /** JSON, or null. */
  metadata: string | null;
  /** The start of the reset period the record counts in (0: a board that never resets). */
  period: number;
  /** How many times the record was written: a node takes a row only if it is newer than its own. */
  seq: number;
  /** When it was last written, in ms since the epoch, by the database's clock. */
  updatedAt: number;
}

export interface RecordWrite {
  owner: number;
  name: string;
  score: number;
  metadata: string | null;
  period: number;
}

/** The leaderboards' part of a backend. */
export interface BoardBackend {
  /** Every record of the board in that period. */
  loadRecords(board: string, period: number): Promise<RecordRow[]>;
  /**
   * Combines each write with the owner's record by the operator (a record of an earlier period is
   * replaced; a write for an earlier period than the record's is ignored), in one transaction;
   * returns the records as written.
   */
  writeRecords(board: string, operator: BoardOperator, order: BoardOrder, writes: RecordWrite[]): Promise<RecordRow[]>;
  /** Every record written at or after `since` (ms since the epoch, the database's clock). */
  changedRecords(since: number): Promise<RecordRow[]>;
  /** The newest `updatedAt` of any record (0 when there is none). */
  newestChange(): Promise<number>;
  /** Removes the board's records of periods before `period`. */
  pruneRecords(board: string, period: number): Promise<void>;
  /** Removes one owner's record of the board, or (no owner) every record of it. */
  deleteRecords(board: string, owner?: number): Promise<void>;
}

/** A put (with its value as JSON) or a delete (no json), as a backend gets it: checked already. */
export interface ObjectWrite {
  collection: string;
  key: string;
  owner: number;
  json: string | undefined;
  bytes: number;
  ifAbsent: boolean;
  ifVersion: string | undefined;
}

/** A storage object as a backend reads it. */
export interface ObjectRow {
  collection: string;
  key: string;
  owner: number;
  json: string;
  version: string;
  updatedAt: number;
}

export interface Quota {
  maxObjects: number;
  maxBytes: number;
}

/** The storage engine's part of a backend (see objects.ts for what games see). */
export interface ObjectBackend {
  readObjects(refs: Required<ObjectRef>[]): Promise<(ObjectRow | undefined)[]>;
  /** Up to `limit` objects of one owner in a collection, in key order (bytewise), after key `after`. */
  listObjects(collection: string, owner: number, after: string | undefined, limit: number): Promise<ObjectRow[]>;
  /** All or nothing, in one transaction: the conditions and quotas hold against what is committed. Never rejects. */
  writeObjects(writes: ObjectWrite[], quota: Quota): Promise<WriteResult>;
}

/**
 * One side of a friendship as its player sees it: friends, a request it sent, one it received, or
 * the other blocked by it. A pair has one row each way (a block has only the blocker's).
 */
export type FriendState = "friend" | "sent" | "received" | "blocked";

/** A row of a player's friends list: the other player, its display name, the state and since when (ms). */
export interface FriendRow {
  userId: number;
  name: string;
  state: FriendState;
  since: number;
}

/** A pair as changePair's decision sees it, under the transaction: both rows and what limits need. */
export interface PairView {
  /** a's row about b, and b's about a. */
  ab: FriendState | undefined;
  ba: FriendState | undefined;
  /** a's friends and the requests a has sent and not yet seen answered; b's friends and the requests b has received. */
  aFriends: number;
  aSent: number;
  bFriends: number;
  bReceived: number;
}

/** What to write (a state, null to delete, absent to leave alone) and what changePair resolves to. */
export interface PairDecision<R> {
  ab?: FriendState | null;
  ba?: FriendState | null;
  result: R;
}

/** A notification kept for a player until its next login. */
export interface NotificationRow {
  id: number;
  userId: number;
  kind: string;
  senderId: number;
  subject: string;
  content: string;
  createdAt: number;
}

/** A line of a chat channel's history (a direct conversation is a channel too). */
export interface ChannelRow {
  id: number;
  channel: string;
  senderId: number;
  senderName: string;
  text: string;
  sentAt: number;
}

/** A party as the store keeps it: its members in the order they joined, the leader one of them. */
export interface PartyRow {
  id: string;
  leaderId: number;
  members: { userId: number; name: string }[];
}

/** What to do to a party: add or remove a member, name a leader, or dissolve it; and what changeParty resolves to. */
export interface PartyDecision<R> {
  add?: number;
  remove?: number;
  leaderId?: number;
  dissolve?: boolean;
  result: R;
}

/** Friends, players' own mutes, notifications, channels' history and parties (src/players). */
export interface SocialBackend {
  /** The player's rows, with the other players' display names. */
  friendsOf(userId: number): Promise<FriendRow[]>;
  /** a's row about b, if any. */
  pairState(a: number, b: number): Promise<FriendState | undefined>;
  /** Reads the pair's rows (and counts) under one transaction, writes what `decide` says, resolves to its result. */
  changePair<R>(a: number, b: number, decide: (pair: PairView) => PairDecision<R>): Promise<R>;
  /** The players this one muted for itself. */
  ignoresOf(userId: number): Promise<number[]>;
  setIgnore(userId: number, otherId: number, on: boolean): Promise<void>;
  /** Keeps a notification for the player; resolves to its id (increasing). */
  addNotification(row: Omit<NotificationRow, "id">): Promise<number>;
  /** The player's kept notifications, oldest first, at most `limit`, deleted in the same transaction. */
  takeNotifications(userId: number, limit: number): Promise<NotificationRow[]>;
  /** Appends a line to a channel's history and forgets those older than its last `keep`; resolves to the line's id. */
  postMessage(row: Omit<ChannelRow, "id">, keep: number): Promise<number>;
  /** Up to `limit` lines of the channel before the id `before` (0: the newest), newest first. */
  history(channel: string, before: number, limit: number): Promise<ChannelRow[]>;
  /** The party the player is in, if any. */
  partyOf(userId: number): Promise<PartyRow | undefined>;
  /** The party of that id, if it still exists. */
  party(id: string): Promise<PartyRow | undefined>;
  /** Makes a party led by the player; false when the player is in one already. */
  createParty(id: string, leaderId: number): Promise<boolean>;
  /**
   * Reads the party under one transaction, writes what `decide` says, resolves to its result; adding a
   * player who is in a party already makes the result `undefined`.
   */
  changeParty<R>(id: string, decide: (party: PartyRow | undefined) => PartyDecision<R>): Promise<R | undefined>;
}
