// Leaderboard records in PostgreSQL: a board's queued writes are one statement (unnest), so one
// transaction; concurrent writers to one record wait on its row, and each sees the other's result.
import type { SQL } from "bun";
import { RECORD_COLUMNS, recordUpsert } from "./board-sql.ts";
import type { Runner } from "./postgres-objects.ts";
import type { BoardBackend, BoardOperator, BoardOrder, RecordRow, RecordWrite } from "./store.ts";

interface RawRow extends Omit<RecordRow, "owner" | "score" | "period" | "seq" | "updatedAt"> {
  owner: string;
  score: string;
  period: string;
  seq: string;
  updatedAt: string;
}

const toRow = (raw: RawRow): RecordRow => ({
  ...raw,
  owner: Number(raw.owner),
  score: Number(raw.score),
  period: Number(raw.period),
  seq: Number(raw.seq),
  updatedAt: Number(raw.updatedAt),
});

const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

export class PostgresBoards implements BoardBackend {
  constructor(private readonly query: Runner) {}

  async loadRecords(board: string, period: number): Promise<RecordRow[]> {
    const rows = await this.query<RawRow[]>((sql) => sql.unsafe(`SELECT ${RECORD_COLUMNS} FROM leaderboard_records WHERE board = $1 AND period = $2`, [board, period]));
    return rows.map(toRow);
  }

  async writeRecords(board: string, operator: BoardOperator, order: BoardOrder, writes: RecordWrite[]): Promise<RecordRow[]> {
    // Two writes of one owner in one statement cannot both update its row; a board's queue holds one per owner.
    const rows = await this.query<RawRow[]>(
      (sql: SQL) =>
        sql.unsafe(
          `INSERT INTO leaderboard_records (board, owner, name, score, metadata, period, seq, updated_at)
           SELECT $1, w.owner, w.name, w.score, w.metadata, w.period, 1, ${NOW_MS}
           FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::bigint[]) AS w(owner, name, score, metadata, period)
           ${recordUpsert(operator, order, "postgres")} RETURNING ${RECORD_COLUMNS}`,
          [
            board,
            sql.array(writes.map((w) => w.owner), "INT8"),
            sql.array(writes.map((w) => w.name), "TEXT"),
            sql.array(writes.map((w) => w.score), "INT8"),
            sql.array(writes.map((w) => w.metadata), "TEXT"),
            sql.array(writes.map((w) => w.period), "INT8"),
          ],
        ),
      false,
    );
    return rows.map(toRow);
  }

  async changedRecords(since: number): Promise<RecordRow[]> {
    const rows = await this.query<RawRow[]>((sql) => sql.unsafe(`SELECT ${RECORD_COLUMNS} FROM leaderboard_records WHERE updated_at >= $1`, [since]));
    return rows.map(toRow);
  }

  async newestChange(): Promise<number> {
    const [row] = await this.query<{ newest: string }[]>((sql) => sql`SELECT coalesce(max(updated_at), 0) AS newest FROM leaderboard_records`);
    return Number(row!.newest);
  }

  async pruneRecords(board: string, period: number): Promise<void> {
    await this.query((sql) => sql`DELETE FROM leaderboard_records WHERE board = ${board} AND period < ${period}`);
  }

  async deleteRecords(board: string, owner?: number): Promise<void> {
    await this.query((sql) =>
      owner === undefined ? sql`DELETE FROM leaderboard_records WHERE board = ${board}` : sql`DELETE FROM leaderboard_records WHERE board = ${board} AND owner = ${owner}`,
    );
  }
}
