// The storage engine games use (`ctx.storage`): JSON objects in collections, per account or
// game-wide, with versions, conditional writes, atomic batches, listing by cursor and quotas per
// owner. It checks names and values, then hands the backend (SQLite or PostgreSQL) work it can do in
// one transaction; it never waits on the database on the event loop (see sqlite-objects.ts).
import {
  decodeCursor,
  encodeCursor,
  encodeValue,
  GAME_WIDE,
  MAX_LIST_LIMIT,
  refProblem,
  type DeleteOp,
  type ObjectRef,
  type StorageLimits,
  type StoredObject,
  type WriteOp,
  type WriteResult,
} from "./objects.ts";
import type { ObjectBackend, ObjectRow, ObjectWrite } from "./store.ts";

/** A read or list named an invalid collection, key or owner (a mistake in the game's code). */
export class StorageRefError extends Error {}

export interface ListOptions {
  /** Whose objects (an account's id); GAME_WIDE (the default) for the game's own. */
  owner?: number;
  /** From a previous page's `cursor`; none: from the first key. */
  cursor?: string;
  /** At most this many (default 100, at most 1000). */
  limit?: number;
}

export interface Page<T> {
  objects: StoredObject<T>[];
  /** Where the next page starts; undefined on the last page. */
  cursor: string | undefined;
}

export interface PutOptions {
  owner?: number;
  ifAbsent?: boolean;
  ifVersion?: string;
}

/** What an update came to: the value written and its version, or why nothing was (as a write says). */
export type UpdateResult<T> = { ok: true; value: T; version: string } | Exclude<WriteResult, { ok: true }>;

export interface UpdateOptions {
  owner?: number;
  /** Conflicts with other nodes' writers to retry before giving up with the conflict (default 20). */
  attempts?: number;
}

export class Storage {
  /** The update running or waiting last for each object, so that this node's updaters of one object take turns. */
  private readonly updating = new Map<string, Promise<unknown>>();

  constructor(
    private readonly backend: ObjectBackend,
    private readonly limits: StorageLimits,
  ) {}

  /** A collection whose values are of type T: reads come back typed, writes take a T. */
  collection<T extends object>(name: string): Collection<T> {
    const problem = refProblem({ collection: name, key: "-" });
    if (problem) throw new StorageRefError(problem);
    return new Collection<T>(this, name);
  }

  /** The objects named, in the same order (undefined where there is none). Rejects when the database fails. */
  async read<T = Record<string, unknown>>(refs: ObjectRef[]): Promise<(StoredObject<T> | undefined)[]> {
    const named = refs.map((ref) => checked(ref));
    return (await this.backend.readObjects(named)).map((row) => row && toObject<T>(row));
  }

  /** One owner's objects in a collection, in key order (bytewise), a page at a time. */
  async list<T = Record<string, unknown>>(collection: string, { owner = GAME_WIDE, cursor, limit = 100 }: ListOptions = {}): Promise<Page<T>> {
    checked({ collection, key: "-", owner });
    const size = Math.max(1, Math.min(MAX_LIST_LIMIT, Math.floor(limit)));
    const rows = await this.backend.listObjects(collection, owner, decodeCursor(cursor), size + 1);
    const page = rows.slice(0, size).map((row) => toObject<T>(row));
    return { objects: page, cursor: rows.length > size ? encodeCursor(page.at(-1)!.key) : undefined };
  }

  /**
   * Puts and deletes, all or none, in one transaction. Never rejects: a failed condition, a quota, an
   * invalid value or an unavailable database is a typed result, and then nothing was written.
   */
  async write(ops: WriteOp[]): Promise<WriteResult> {
    const writes: ObjectWrite[] = [];
    for (const [index, op] of ops.entries()) {
      const problem = refProblem(op);
      if (problem) return { ok: false, reason: "invalid", index, message: problem };
      const { collection, key, owner = GAME_WIDE } = op;
      const ifVersion = op.ifVersion;
      if (ifVersion !== undefined && typeof ifVersion !== "string") return { ok: false, reason: "invalid", index, message: "ifVersion must be a version string" };
      if (isDelete(op)) {
        writes.push({ collection, key, owner, json: undefined, bytes: 0, ifAbsent: false, ifVersion });
        continue;
      }
      const encoded = encodeValue(op.value, this.limits.storageMaxValueBytes);
      if ("problem" in encoded) return { ok: false, reason: "invalid", index, message: `${collection}/${key}: ${encoded.problem}` };
      writes.push({ collection, key, owner, ...encoded, ifAbsent: op.ifAbsent === true, ifVersion });
    }
    if (writes.length === 0) return { ok: true, versions: [] };
    return this.backend.writeObjects(writes, { maxObjects: this.limits.storageMaxObjects, maxBytes: this.limits.storageMaxBytes });
  }

  /** Deletes, all or none (see write). */
  delete(refs: (ObjectRef & { ifVersion?: string })[]): Promise<WriteResult> {
    return this.write(refs.map((ref) => ({ ...ref, delete: true })));
  }

  /**
   * Reads an object, computes its next value with `change`, and writes it on the condition that
   * nobody wrote it meanwhile. This node's updaters of one object take turns, so among them there is
   * no conflict; a write of another node in between is a conflict that is retried from a fresh read
   * (up to `attempts` times, after a short random wait). Rejects only when `change` throws; every other
   * failure is a typed result, as a write's.
   */
  update<T extends object>(collection: string, key: string, change: (current: T | undefined) => T, { owner = GAME_WIDE, attempts = 20 }: UpdateOptions = {}): Promise<UpdateResult<T>> {
    const id = JSON.stringify([collection, owner, key]);
    const before = this.updating.get(id) ?? Promise.resolve();
    const run = before.then(() => this.updateNow(collection, key, change, owner, attempts));
    const last = run.catch(() => undefined);
    this.updating.set(id, last);
    void last.then(() => {
      if (this.updating.get(id) === last) this.updating.delete(id);
    });
    return run;
  }

  private async updateNow<T extends object>(collection: string, key: string, change: (current: T | undefined) => T, owner: number, attempts: number): Promise<UpdateResult<T>> {
    for (let attempt = 1; ; attempt++) {
      let current: StoredObject<T> | undefined;
      try {
        [current] = await this.read<T>([{ collection, key, owner }]);
      } catch (err) {
        return { ok: false, reason: "unavailable", message: err instanceof Error ? err.message : String(err) };
      }
      const value = change(current?.value);
      const result = await this.write([{ collection, key, owner, value, ...(current ? { ifVersion: current.version } : { ifAbsent: true }) }]);
      if (result.ok) return { ok: true, value, version: result.versions[0]! };
      if (result.reason !== "conflict" || attempt >= attempts) return result;
      await Bun.sleep(Math.random() * 5 * attempt);
    }
  }
}

/** A collection with values of type T. */
export class Collection<T extends object> {
  constructor(
    private readonly storage: Storage,
    readonly name: string,
  ) {}

  async get(key: string, owner = GAME_WIDE): Promise<StoredObject<T> | undefined> {
    return (await this.storage.read<T>([{ collection: this.name, key, owner }]))[0];
  }

  read(keys: string[], owner = GAME_WIDE): Promise<(StoredObject<T> | undefined)[]> {
    return this.storage.read<T>(keys.map((key) => ({ collection: this.name, key, owner })));
  }

  list(options?: ListOptions): Promise<Page<T>> {
    return this.storage.list<T>(this.name, options);
  }

  /** One put, as a batch of its own. */
  put(key: string, value: T, options: PutOptions = {}): Promise<WriteResult> {
    return this.storage.write([this.op(key, value, options)]);
  }

  /** A put of this collection, to batch with others in `storage.write([...])`. */
  op(key: string, value: T, { owner = GAME_WIDE, ifAbsent, ifVersion }: PutOptions = {}): WriteOp<T> {
    return { collection: this.name, key, owner, value, ifAbsent, ifVersion };
  }

  delete(key: string, { owner = GAME_WIDE, ifVersion }: { owner?: number; ifVersion?: string } = {}): Promise<WriteResult> {
    return this.storage.delete([{ collection: this.name, key, owner, ifVersion }]);
  }

  /**
   * The object's next value from its current one (undefined: there is none yet), written so that no
   * writer's change is lost: `await wallets.update("main", (w) => ({ gold: (w?.gold ?? 0) + 5 }), { owner })`.
   * `change` may run more than once (after another node's write): keep it free of side effects.
   */
  update(key: string, change: (current: T | undefined) => T, options: UpdateOptions = {}): Promise<UpdateResult<T>> {
    return this.storage.update<T>(this.name, key, change, options);
  }
}

function isDelete(op: WriteOp): op is DeleteOp {
  return (op as DeleteOp).delete === true;
}

function checked(ref: ObjectRef): Required<ObjectRef> {
  const problem = refProblem(ref);
  if (problem) throw new StorageRefError(problem);
  return { collection: ref.collection, key: ref.key, owner: ref.owner ?? GAME_WIDE };
}

function toObject<T>({ collection, key, owner, json, version, updatedAt }: ObjectRow): StoredObject<T> {
  return { collection, key, owner, value: JSON.parse(json) as T, version, updatedAt };
}
