// Leaderboard records in SQLite. Writes come from a board's queue, a few hundred records at most, in
// one transaction.
import type { Database, Statement } from "bun:sqlite";
import { RECORD_COLUMNS, recordUpsert } from "./board-sql.ts";
import type { BoardBackend, BoardOperator, BoardOrder, RecordRow, RecordWrite } from "./store.ts";

type Upsert = Statement<RecordRow, [string, number, string, number, string | null, number, number]>;

export class SqliteBoards implements BoardBackend {
  private readonly upserts = new Map<string, Upsert>();
  private readonly selectBoard: Statement<RecordRow, [string, number]>;
  private readonly selectChanged: Statement<RecordRow, [number]>;

  constructor(private readonly db: Database) {
    this.selectBoard = db.query(`SELECT ${RECORD_COLUMNS} FROM leaderboard_records WHERE board = ? AND period = ?`);
    this.selectChanged = db.query(`SELECT ${RECORD_COLUMNS} FROM leaderboard_records WHERE updated_at >= ?`);
  }

  async loadRecords(board: string, period: number): Promise<RecordRow[]> {
    return this.selectBoard.all(board, period);
  }

  async writeRecords(board: string, operator: BoardOperator, order: BoardOrder, writes: RecordWrite[]): Promise<RecordRow[]> {
    const upsert = this.upsertFor(operator, order);
    const now = Date.now();
    return this.db.transaction(() => writes.flatMap((w) => upsert.all(board, w.owner, w.name, w.score, w.metadata, w.period, now)))();
  }

  async changedRecords(since: number): Promise<RecordRow[]> {
    return this.selectChanged.all(since);
  }

  async newestChange(): Promise<number> {
    return (this.db.query("SELECT coalesce(max(updated_at), 0) AS newest FROM leaderboard_records").get() as { newest: number }).newest;
  }

  async pruneRecords(board: string, period: number): Promise<void> {
    this.db.query("DELETE FROM leaderboard_records WHERE board = ? AND period < ?").run(board, period);
  }

  async deleteRecords(board: string, owner?: number): Promise<void> {
    if (owner === undefined) this.db.query("DELETE FROM leaderboard_records WHERE board = ?").run(board);
    else this.db.query("DELETE FROM leaderboard_records WHERE board = ? AND owner = ?").run(board, owner);
  }

  private upsertFor(operator: BoardOperator, order: BoardOrder): Upsert {
    const kind = `${operator}/${order}`;
    let upsert = this.upserts.get(kind);
    if (!upsert) {
      upsert = this.db.query(
        `INSERT INTO leaderboard_records (board, owner, name, score, metadata, period, seq, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?)
         ${recordUpsert(operator, order, "sqlite")} RETURNING ${RECORD_COLUMNS}`,
      );
      this.upserts.set(kind, upsert);
    }
    return upsert;
  }
}
