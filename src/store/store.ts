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
