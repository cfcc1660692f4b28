import type { ObjectRef, WriteResult } from "./objects.ts";
import type { Storage } from "./storage.ts";

// What the server keeps between runs: accounts and best scores. Two backends with the same behaviour:
// SQLite in the data folder (the embedded default) and PostgreSQL (one database several machines
// share), chosen by `--database-url`; the hiscore board is served from memory over either (ranked.ts).

export interface Account {
  userId: number;
  passwordHash: string;
  playerId: number;
  name: string;
  color: number;
  bestScore: number;
}

/** A player's place on the board is decided by its best score, then its id (older first). */
export interface PlayerScore {
  id: number;
  name: string;
  score: number;
}

export interface HiscoreEntry {
  rank: number;
  name: string;
  score: number;
}

/** createAccount's answer when the name is taken (names are unique case-insensitively). */
export class UserExistsError extends Error {}

/** The store cannot be opened at start; the message names the file or the database, never a password. */
export class StoreOpenError extends Error {}

export interface Store {
  /** What it is, for the log: the SQLite file, or the PostgreSQL URL with its password masked. */
  readonly description: string;
  readonly schemaVersion: number;
  findAccount(username: string): Promise<Account | undefined>;
  /** Stores a user (name lower-cased) and its player (name as typed) at once; rejects with UserExistsError. */
  createAccount(username: string, passwordHash: string, color: number): Promise<Account>;
  /** The board from `offset` (0-based), best score first, older accounts first among equals. O(log n) an entry. */
  hiscores(offset: number, limit?: number): HiscoreEntry[];
  /** The 1-based position of the player of that name (ASCII case-insensitive, `%` and `_` literal), or undefined. O(log n). */
  rankOf(name: string): number | undefined;
  /**
   * best = max(best, score) for each player. Never rejects: while the database is unavailable the
   * scores are kept (the highest per player) and written when it is back. Resolves once written or kept.
   */
  saveBestScores(scores: Iterable<[playerId: number, score: number]>): Promise<void>;
  /** Games' objects (objects.ts). */
  readonly storage: Storage;
  /** Writes what is kept, then closes. */
  close(): Promise<void>;
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

/** What SQLite and PostgreSQL implement; RankedStore adds the board, kept in memory. */
export interface StoreBackend extends Omit<Store, "hiscores" | "rankOf" | "storage"> {
  readonly objects: ObjectBackend;
  /** Every player with its best score, to rank them at start. */
  players(): Promise<PlayerScore[]>;
}
