// The one upsert both stores run for a leaderboard record, in each one's words: the operator decides
// the new score, a record of an earlier period is replaced, a write for an earlier period than the
// record's changes nothing, and every write counts (seq), so nodes can tell newer from older.
import type { BoardOperator, BoardOrder } from "./store.ts";

export type Dialect = "sqlite" | "postgres";

/** The score a write leaves, from the record's (`old`) and the submission's (`excluded.score`). */
function combined(operator: BoardOperator, order: BoardOrder, dialect: Dialect, old: string): string {
  if (operator === "set") return "excluded.score";
  if (operator === "increment") return `${old} + excluded.score`;
  const better = order === "desc" ? "max" : "min";
  return dialect === "sqlite" ? `${better}(${old}, excluded.score)` : `${better === "max" ? "GREATEST" : "LEAST"}(${old}, excluded.score)`;
}

/** The SET and WHERE of `INSERT ... ON CONFLICT (board, owner) DO UPDATE`. */
export function recordUpsert(operator: BoardOperator, order: BoardOrder, dialect: Dialect): string {
  const t = dialect === "sqlite" ? "" : "leaderboard_records.";
  const renewed = `${t}period < excluded.period`;
  return `ON CONFLICT (board, owner) DO UPDATE SET
      score = CASE WHEN ${renewed} THEN excluded.score ELSE ${combined(operator, order, dialect, `${t}score`)} END,
      metadata = CASE WHEN ${renewed} THEN excluded.metadata ELSE coalesce(excluded.metadata, ${t}metadata) END,
      name = excluded.name,
      period = excluded.period,
      seq = ${t}seq + 1,
      updated_at = excluded.updated_at
    WHERE ${t}period <= excluded.period`;
}

export const RECORD_COLUMNS = `board, owner, name, score, metadata, period, seq, updated_at AS "updatedAt"`;
