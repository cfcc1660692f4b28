// Storage objects in PostgreSQL. A batch is one transaction: each object it names is locked (SELECT
// ... FOR UPDATE) before its condition is checked, so of two writers racing on one version exactly
// one wins; two that both find an object absent meet at its primary key, and the loser runs again
// and then sees the winner's object. Quotas are one row per owner, updated in the same transaction.
import { SQL } from "bun";
import { errorText } from "../log.ts";
import type { ObjectRef, WriteResult } from "./objects.ts";
import type { ObjectBackend, ObjectRow, ObjectWrite, Quota } from "./store.ts";

/** SQLSTATEs after which the whole batch may simply run again: unique violation, serialization failure, deadlock. */
const RETRY_ON = new Set(["23505", "40001", "40P01"]);
const MAX_ATTEMPTS = 5;

export type Runner = <T>(run: (sql: SQL) => Promise<T>, repeatable?: boolean) => Promise<T>;

interface RawRow {
  collection: string;
  key: string;
  owner: string;
  json: string;
  version: string;
  updatedAt: string;
}

const toRow = (raw: RawRow): ObjectRow => ({ ...raw, owner: Number(raw.owner), updatedAt: Number(raw.updatedAt) });

/** A batch's condition or quota failed: its transaction is rolled back. */
class Refused extends Error {
  constructor(readonly result: WriteResult) {
    super("refused");
  }
}

export class PostgresObjects implements ObjectBackend {
  /** `query` runs a statement on the store's pool, logging outages once. */
  constructor(private readonly query: Runner) {}

  async readObjects(refs: Required<ObjectRef>[]): Promise<(ObjectRow | undefined)[]> {
    if (refs.length === 0) return [];
    const rows = await this.query<RawRow[]>(
      (sql) => sql`
        SELECT o.collection, o.key, o.owner, o.value AS json, o.version, o.updated_at AS "updatedAt"
        FROM unnest(${sql.array(refs.map((r) => r.collection), "TEXT")}::text[], ${sql.array(refs.map((r) => r.owner), "INT8")}::bigint[],
                    ${sql.array(refs.map((r) => r.key), "TEXT")}::text[]) AS r(collection, owner, key)
        JOIN storage_objects o ON o.collection = r.collection AND o.owner = r.owner AND o.key = r.key`,
    );
    const found = new Map(rows.map((row) => [`${row.collection}\u0000${row.owner}\u0000${row.key}`, toRow(row)]));
    return refs.map((r) => found.get(`${r.collection}\u0000${r.owner}\u0000${r.key}`));
  }

  async listObjects(collection: string, owner: number, after: string | undefined, limit: number): Promise<ObjectRow[]> {
    const rows = await this.query<RawRow[]>(
      (sql) => sql`
        SELECT collection, key, owner, value AS json, version, updated_at AS "updatedAt" FROM storage_objects
        WHERE collection = ${collection} AND owner = ${owner} AND key > ${after ?? ""} ORDER BY key LIMIT ${limit}`,
    );
    return rows.map(toRow);
  }

  async writeObjects(writes: ObjectWrite[], quota: Quota): Promise<WriteResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.query((sql) => sql.begin((tx) => this.apply(tx, writes, quota)), false);
      } catch (err) {
        if (err instanceof Refused) return err.result;
        const state = err instanceof SQL.PostgresError ? err.errno : undefined;
        if (state !== undefined && RETRY_ON.has(state) && attempt < MAX_ATTEMPTS) continue;
        return { ok: false, reason: "unavailable", message: `the database failed: ${errorText(err)}` };
      }
    }
  }

  private async apply(tx: SQL, writes: ObjectWrite[], quota: Quota): Promise<WriteResult> {
    const usage = new Map<number, { objects: number; bytes: number }>();
    const versions: (string | undefined)[] = [];
    for (const [index, write] of writes.entries()) {
      const { collection, owner, key } = write;
      const [found] = (await tx`
        SELECT version, bytes FROM storage_objects WHERE collection = ${collection} AND owner = ${owner} AND key = ${key} FOR UPDATE`) as {
        version: string;
        bytes: number;
      }[];
      if ((write.ifAbsent && found) || (write.ifVersion !== undefined && found?.version !== write.ifVersion)) {
        throw new Refused({ ok: false, reason: "conflict", index, object: { collection, key, owner }, version: found?.version });
      }
      const delta = usage.get(owner) ?? { objects: 0, bytes: 0 };
      usage.set(owner, delta);
      if (write.json === undefined) {
        if (found) {
          await tx`DELETE FROM storage_objects WHERE collection = ${collection} AND owner = ${owner} AND key = ${key}`;
          delta.objects--;
          delta.bytes -= found.bytes;
        }
        versions.push(undefined);
        continue;
      }
      const [{ version }] = found
        ? await tx`
            UPDATE storage_objects SET value = ${write.json}, version = nextval('storage_versions'), bytes = ${write.bytes},
                   updated_at = (extract(epoch from clock_timestamp()) * 1000)::bigint
            WHERE collection = ${collection} AND owner = ${owner} AND key = ${key} RETURNING version`
        : await tx`
            INSERT INTO storage_objects (collection, owner, key, value, version, bytes, updated_at)
            VALUES (${collection}, ${owner}, ${key}, ${write.json}, nextval('storage_versions'), ${write.bytes},
                    (extract(epoch from clock_timestamp()) * 1000)::bigint)
            RETURNING version`;
      if (!found) delta.objects++;
      delta.bytes += write.bytes - (found?.bytes ?? 0);
      versions.push(String(version));
    }
    for (const [owner, delta] of usage) {
      if (owner === 0 || (delta.objects === 0 && delta.bytes === 0)) continue;
      const [total] = (await tx`
        INSERT INTO storage_usage (owner, objects, bytes) VALUES (${owner}, ${delta.objects}, ${delta.bytes})
        ON CONFLICT (owner) DO UPDATE SET objects = storage_usage.objects + excluded.objects, bytes = storage_usage.bytes + excluded.bytes
        RETURNING objects, bytes`) as { objects: string; bytes: string }[];
      const [objects, bytes] = [Number(total!.objects), Number(total!.bytes)];
      if ((delta.objects > 0 && objects > quota.maxObjects) || (delta.bytes > 0 && bytes > quota.maxBytes)) {
        throw new Refused({ ok: false, reason: "quota", owner, objects, bytes, ...quota });
      }
    }
    return { ok: true, versions };
  }
}
