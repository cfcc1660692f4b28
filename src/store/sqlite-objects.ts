// Storage objects in SQLite. bun:sqlite is synchronous, so a write never runs where it is asked:
// batches wait for the next turn of the event loop and are committed together, one transaction for
// many batches (one savepoint each, so a batch whose condition fails writes nothing and the others
// still commit), in slices that hold the loop for a few milliseconds at most.
import type { Database, Statement } from "bun:sqlite";
import { errorText } from "../log.ts";
import type { ObjectRef, WriteResult } from "./objects.ts";
import type { ObjectBackend, ObjectRow, ObjectWrite, Quota } from "./store.ts";

/** A slice of queued batches runs at most this long before it commits and lets the loop go on. */
const SLICE_MS = 4;

interface Pending {
  writes: ObjectWrite[];
  quota: Quota;
  resolve(result: WriteResult): void;
}

/** A batch's condition or quota failed: its savepoint is rolled back. */
class Refused {
  constructor(readonly result: WriteResult) {}
}

interface RawRow {
  collection: string;
  key: string;
  owner: number;
  json: string;
  version: number;
  updatedAt: number;
}

const toRow = (raw: RawRow): ObjectRow => ({ ...raw, version: String(raw.version) });

export class SqliteObjects implements ObjectBackend {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly selectOne: Statement<RawRow, [string, number, string]>;
  private readonly selectMeta: Statement<{ version: number; bytes: number }, [string, number, string]>;
  private readonly selectPage: Statement<RawRow, [string, number, string, number]>;
  private readonly upsert: Statement<unknown, [string, number, string, string, number, number, number]>;
  private readonly remove: Statement<unknown, [string, number, string]>;
  private readonly tick: Statement<{ version: number }, []>;
  private readonly addUsage: Statement<{ objects: number; bytes: number }, [number, number, number]>;

  constructor(private readonly db: Database) {
    const columns = "collection, key, owner, value AS json, version, updated_at AS updatedAt";
    this.selectOne = db.query(`SELECT ${columns} FROM storage_objects WHERE collection = ? AND owner = ? AND key = ?`);
    this.selectMeta = db.query("SELECT version, bytes FROM storage_objects WHERE collection = ? AND owner = ? AND key = ?");
    this.selectPage = db.query(`SELECT ${columns} FROM storage_objects WHERE collection = ? AND owner = ? AND key > ? ORDER BY key LIMIT ?`);
    this.upsert = db.query(
      `INSERT INTO storage_objects (collection, owner, key, value, version, bytes, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (collection, owner, key) DO UPDATE SET value = excluded.value, version = excluded.version, bytes = excluded.bytes, updated_at = excluded.updated_at`,
    );
    this.remove = db.query("DELETE FROM storage_objects WHERE collection = ? AND owner = ? AND key = ?");
    this.tick = db.query("UPDATE storage_clock SET version = version + 1 RETURNING version");
    this.addUsage = db.query(
      `INSERT INTO storage_usage (owner, objects, bytes) VALUES (?, ?, ?)
       ON CONFLICT (owner) DO UPDATE SET objects = objects + excluded.objects, bytes = bytes + excluded.bytes RETURNING objects, bytes`,
    );
  }

  async readObjects(refs: Required<ObjectRef>[]): Promise<(ObjectRow | undefined)[]> {
    return refs.map(({ collection, owner, key }) => {
      const raw = this.selectOne.get(collection, owner, key);
      return raw ? toRow(raw) : undefined;
    });
  }

  async listObjects(collection: string, owner: number, after: string | undefined, limit: number): Promise<ObjectRow[]> {
    return this.selectPage.all(collection, owner, after ?? "", limit).map(toRow);
  }

  writeObjects(writes: ObjectWrite[], quota: Quota): Promise<WriteResult> {
    return new Promise((resolve) => {
      this.queue.push({ writes, quota, resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits what is queued, now (at close). */
  drain(): void {
    while (this.queue.length > 0) this.commitSlice(Infinity);
  }

  private flush(): void {
    this.scheduled = false;
    this.commitSlice(SLICE_MS);
    if (this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** One transaction: batches from the queue until `budgetMs` is spent (at least one). */
  private commitSlice(budgetMs: number): void {
    const start = performance.now();
    const done: [Pending, WriteResult][] = [];
    try {
      this.db.run("BEGIN IMMEDIATE");
    } catch (err) {
      for (const pending of this.queue.splice(0)) pending.resolve(unavailable(err));
      return;
    }
    try {
      while (this.queue.length > 0 && (done.length === 0 || performance.now() - start < budgetMs)) {
        const pending = this.queue.shift()!;
        this.db.run("SAVEPOINT batch");
        let result: WriteResult;
        try {
          result = this.apply(pending.writes, pending.quota);
        } catch (err) {
          result = err instanceof Refused ? err.result : unavailable(err);
        }
        if (!result.ok) this.db.run("ROLLBACK TO batch");
        this.db.run("RELEASE batch");
        done.push([pending, result]);
      }
      this.db.run("COMMIT");
    } catch (err) {
      if (this.db.inTransaction) this.db.run("ROLLBACK");
      for (const [pending] of done) pending.resolve(unavailable(err));
      return;
    }
    for (const [pending, result] of done) pending.resolve(result);
  }

  private apply(writes: ObjectWrite[], quota: Quota): WriteResult {
    const usage = new Map<number, { objects: number; bytes: number }>();
    const versions: (string | undefined)[] = [];
    const now = Date.now();
    writes.forEach((write, index) => {
      const { collection, owner, key } = write;
      const found = this.selectMeta.get(collection, owner, key);
      const version = found ? String(found.version) : undefined;
      if ((write.ifAbsent && found) || (write.ifVersion !== undefined && version !== write.ifVersion)) {
        throw new Refused({ ok: false, reason: "conflict", index, object: { collection, key, owner }, version });
      }
      const delta = usage.get(owner) ?? { objects: 0, bytes: 0 };
      usage.set(owner, delta);
      if (write.json === undefined) {
        if (found) {
          this.remove.run(collection, owner, key);
          delta.objects--;
          delta.bytes -= found.bytes;
        }
        versions.push(undefined);
        return;
      }
      const next = this.tick.get()!.version;
      this.upsert.run(collection, owner, key, write.json, next, write.bytes, now);
      if (!found) delta.objects++;
      delta.bytes += write.bytes - (found?.bytes ?? 0);
      versions.push(String(next));
    });
    for (const [owner, delta] of usage) {
      if (owner === 0 || (delta.objects === 0 && delta.bytes === 0)) continue;
      const total = this.addUsage.get(owner, delta.objects, delta.bytes)!;
      if ((delta.objects > 0 && total.objects > quota.maxObjects) || (delta.bytes > 0 && total.bytes > quota.maxBytes)) {
        throw new Refused({ ok: false, reason: "quota", owner, objects: total.objects, bytes: total.bytes, ...quota });
      }
    }
    return { ok: true, versions };
  }
}

function unavailable(err: unknown): WriteResult {
  return { ok: false, reason: "unavailable", message: `the database failed: ${errorText(err)}` };
}
