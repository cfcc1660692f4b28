// Leaderboards games declare (`ctx.leaderboards`): named boards with an order, an operator (best, set,
// increment) and an optional reset (daily, weekly, monthly, at UTC boundaries). Every read comes from
// memory in O(log n) (ranking.ts); every submit shows at once here, reaches the store (kept and
// retried while the database is away) and, through the store's answer, every node: a node applies a
// record only if it is newer than the one it has (each record counts its writes), so events that
// cross or repeat on the bus cannot move a board back, and a node that missed events catches up from
// the store (`catchUp`).
import { errorText, type Logger } from "../log.ts";
import { encodeValue, type Json } from "./objects.ts";
import { Ranking, type RankedEntry } from "./ranking.ts";
import type { BoardBackend, BoardOperator, BoardOrder, RecordRow } from "./store.ts";

export type { BoardOperator, BoardOrder };
export type BoardReset = "daily" | "weekly" | "monthly";

export interface BoardSpec {
  /** Letters, digits, "_", "." or "-". */
  id: string;
  /** desc (the default): higher scores rank first. */
  order?: BoardOrder;
  /** best (the default), set or increment. */
  operator?: BoardOperator;
  /** The board starts empty at every UTC day, week (from Monday) or month; none: never. */
  reset?: BoardReset;
}

export interface BoardRecord extends RankedEntry {
  /** What the last submission that changed the record brought, if anything. */
  metadata?: Record<string, Json>;
}

export interface SubmitOptions {
  /** The owner's name, shown on the board and found by `search` (the record keeps the last one given). */
  name: string;
  /** A small JSON object kept with the record (at most 1 KiB as JSON). */
  metadata?: Record<string, unknown>;
}

/** A record in the store is re-read this far behind the newest change seen, for writes that committed late. */
const CATCH_UP_MARGIN_MS = 10_000;
const RETRY_MS = 2000;
const MAX_METADATA_BYTES = 1024;
/** Records one write to the store carries at most. */
const WRITE_BATCH = 500;
const BOARD_ID = /^[A-Za-z0-9_.-]{1,64}$/;

const DAY_MS = 86_400_000;

/** The start (ms since the epoch, UTC) of the period `now` is in; 0 for a board that never resets. */
export function periodOf(reset: BoardReset | undefined, now: number): number {
  if (!reset) return 0;
  const day = Math.floor(now / DAY_MS) * DAY_MS;
  if (reset === "daily") return day;
  // 1970-01-01 was a Thursday: (days + 3) % 7 is the days since Monday.
  if (reset === "weekly") return day - ((Math.floor(now / DAY_MS) + 3) % 7) * DAY_MS;
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

interface Pending {
  name: string;
  score: number;
  metadata: string | null;
  period: number;
}

export class Leaderboard {
  readonly order: BoardOrder;
  readonly operator: BoardOperator;
  readonly reset: BoardReset | undefined;
  private ranking: Ranking;
  private period: number;
  private readonly metadata = new Map<number, Record<string, Json>>();
  /** Submissions not yet in the store, combined per owner by the operator. */
  private readonly pending = new Map<number, Pending>();
  /** Written now (the store's answer will come back). */
  private writing: Promise<void> | undefined;
  private retry: Timer | undefined;
  private failing = false;

  constructor(
    readonly id: string,
    spec: BoardSpec,
    private readonly boards: Leaderboards,
  ) {
    this.order = spec.order ?? "desc";
    this.operator = spec.operator ?? "best";
    this.reset = spec.reset;
    this.period = periodOf(this.reset, boards.clock());
    this.ranking = new Ranking(this.order);
  }

  /** Records on the board now. */
  get size(): number {
    this.roll();
    return this.ranking.count;
  }

  /**
   * Submits a score for an owner (an account's id): the board shows it at once, combined with the
   * record by the board's operator; the store has it when written (kept and retried meanwhile).
   * Resolves once written or kept; never rejects. A score must be a safe integer.
   */
  submit(owner: number, score: number, { name, metadata }: SubmitOptions): Promise<void> {
    if (!Number.isSafeInteger(owner) || owner <= 0) throw new RangeError(`board ${this.id}: owner ${owner} is not an account id`);
    if (!Number.isSafeInteger(score)) throw new RangeError(`board ${this.id}: score ${score} is not a safe integer`);
    let json: string | null = null;
    if (metadata !== undefined) {
      const encoded = encodeValue(metadata, MAX_METADATA_BYTES);
      if ("problem" in encoded) throw new RangeError(`board ${this.id}: metadata: ${encoded.problem}`);
      json = encoded.json;
    }
    this.roll();
    const before = this.pending.get(owner);
    const queued = before && before.period === this.period ? { ...before, name, score: this.combine(before.score, score), metadata: json ?? before.metadata } : { name, score, metadata: json, period: this.period };
    this.pending.set(owner, queued);
    const shown = this.ranking.scoreOf(owner);
    this.ranking.set({ id: owner, name, score: shown === undefined ? score : this.combine(shown, score) });
    if (json !== null) this.metadata.set(owner, JSON.parse(json) as Record<string, Json>);
    return this.flush();
  }

  /**
   * An operator's correction: the owner's record becomes exactly `score` (whatever the board's
   * operator), under `name`; written at once, and told to the other nodes as any write is.
   */
  async correct(owner: number, score: number, name: string): Promise<RecordRow> {
    if (!Number.isSafeInteger(score)) throw new RangeError(`board ${this.id}: score ${score} is not a safe integer`);
    this.roll();
    this.pending.delete(owner);
    const rows = await this.boards.backend.writeRecords(this.id, "set", this.order, [{ owner, name, score, metadata: null, period: this.period }]);
    for (const row of rows) this.apply(row);
    this.boards.changed(rows);
    return rows[0]!;
  }

  /** An operator removes the owner's record (or, with no owner, every record: a reset); told to the other nodes. */
  async remove(owner?: number): Promise<void> {
    if (owner === undefined) this.pending.clear();
    else this.pending.delete(owner);
    await this.boards.backend.deleteRecords(this.id, owner);
    this.removed(owner);
    this.boards.changes.removed(this.id, owner);
  }

  /** A record removed (or, with no owner, the board reset), here or on another node: the board in memory follows. */
  removed(owner?: number): void {
    if (owner === undefined) {
      this.ranking = Ranking.of([], this.order);
      this.metadata.clear();
    } else {
      this.ranking.remove(owner);
      this.metadata.delete(owner);
    }
  }

  /** The owner's record under a new name (its display name changed), its score kept; nothing when it has none. */
  rename(owner: number, name: string): Promise<void> {
    this.roll();
    const score = this.ranking.scoreOf(owner);
    if (score === undefined) return Promise.resolve();
    return this.submit(owner, this.operator === "increment" ? 0 : score, { name });
  }

  /** `limit` records from the 0-based position `offset` (the best first). */
  top(limit = 10, offset = 0): BoardRecord[] {
    this.roll();
    return this.withMetadata(this.ranking.board(offset, limit));
  }

  /** `limit` records with the owner's in the middle (as near as the board's ends allow); empty if it has none. */
  around(owner: number, limit = 10): BoardRecord[] {
    const rank = this.rankOf(owner);
    if (rank === undefined) return [];
    return this.top(limit, Math.max(0, Math.min(rank - 1 - Math.floor(limit / 2), this.ranking.count - limit)));
  }

  /** The owner's 1-based rank, or undefined. */
  rankOf(owner: number): number | undefined {
    this.roll();
    return this.ranking.rankOfId(owner);
  }

  recordOf(owner: number): BoardRecord | undefined {
    const rank = this.rankOf(owner);
    return rank === undefined ? undefined : this.top(1, rank - 1)[0];
  }

  /** The rank of the owner of that name (ASCII case-insensitive, the oldest owner of several), or undefined. */
  search(name: string): number | undefined {
    this.roll();
    return this.ranking.rankOf(name);
  }

  /** Loads the current period's records from the store. */
  async load(): Promise<void> {
    const period = periodOf(this.reset, this.boards.clock());
    const rows = await this.boards.backend.loadRecords(this.id, period);
    this.period = period;
    this.ranking = Ranking.of(rows.map((row) => ({ id: row.owner, name: row.name, score: row.score })), this.order);
    this.metadata.clear();
    for (const row of rows) this.remember(row);
  }

  /** A record as the store has it (from this node's write, another node's, or a catch-up): taken if newer. */
  apply(row: RecordRow): void {
    this.roll();
    if (row.period !== this.period || row.seq <= this.ranking.stampOf(row.owner)) return;
    const queued = this.pending.get(row.owner);
    const score = queued && queued.period === this.period ? this.combine(row.score, queued.score) : row.score;
    this.ranking.set({ id: row.owner, name: row.name, score });
    this.remember(row);
  }

  /** Writes what is pending now; resolves once written or kept for a retry. */
  flush(): Promise<void> {
    this.writing ??= this.drain().finally(() => (this.writing = undefined));
    return this.writing;
  }

  /** Stops retrying after one last attempt; logs what could not be written. */
  async close(): Promise<void> {
    clearTimeout(this.retry);
    this.retry = undefined;
    await this.flush();
    clearTimeout(this.retry);
    if (this.pending.size > 0) this.boards.log.error(`Board ${this.id}: ${this.pending.size} record(s) could not be saved: the database is unavailable`);
  }

  private remember(row: RecordRow): void {
    this.ranking.setStamp(row.owner, row.seq);
    if (row.metadata !== null) this.metadata.set(row.owner, JSON.parse(row.metadata) as Record<string, Json>);
  }

  private async drain(): Promise<void> {
    // Let the submissions of this turn join one write.
    await Promise.resolve();
    while (this.pending.size > 0) {
      const batch = [...this.pending].slice(0, WRITE_BATCH);
      let rows: RecordRow[];
      try {
        rows = await this.boards.backend.writeRecords(
          this.id,
          this.operator,
          this.order,
          batch.map(([owner, p]) => ({ owner, ...p })),
        );
      } catch (err) {
        if (!this.failing) this.boards.log.error(`Board ${this.id}: saving ${batch.length} record(s) failed; kept, retrying every ${RETRY_MS} ms: ${errorText(err)}`);
        this.failing = true;
        this.retry ??= setTimeout(() => {
          this.retry = undefined;
          void this.flush();
        }, RETRY_MS);
        return;
      }
      // What was submitted meanwhile stays for the next round.
      for (const [owner, written] of batch) if (this.pending.get(owner) === written) this.pending.delete(owner);
      for (const row of rows) this.apply(row);
      this.boards.changed(rows);
      if (this.failing) this.boards.log.info(`Board ${this.id}: saved the records kept while the database was unavailable`);
      this.failing = false;
    }
  }

  private combine(record: number, submitted: number): number {
    if (this.operator === "set") return submitted;
    if (this.operator === "increment") return record + submitted;
    return this.order === "desc" ? Math.max(record, submitted) : Math.min(record, submitted);
  }

  /** At a reset boundary the board starts empty (what is pending for the old period is still written). */
  private roll(): void {
    if (!this.reset) return;
    const period = periodOf(this.reset, this.boards.clock());
    if (period === this.period) return;
    this.period = period;
    this.ranking = new Ranking(this.order);
    this.metadata.clear();
    this.boards.log.info(`Board ${this.id}: a new ${this.reset} period began (${new Date(period).toISOString()})`);
    void this.boards.backend.pruneRecords(this.id, period).catch((err) => this.boards.log.warn(`Board ${this.id}: could not remove the last period's records: ${errorText(err)}`));
  }

  private withMetadata(entries: RankedEntry[]): BoardRecord[] {
    return entries.map((entry) => {
      const metadata = this.metadata.get(entry.id);
      return metadata ? { ...entry, metadata } : entry;
    });
  }
}

/** What this node's boards tell the other nodes of a cluster. */
export interface BoardChanges {
  /** The records this node wrote, as the store has them. */
  written(rows: RecordRow[]): void;
  /** A record this node's operator removed, or a board reset (no owner). */
  removed(board: string, owner: number | undefined): void;
}

const NO_CHANGES: BoardChanges = { written: () => undefined, removed: () => undefined };

export class Leaderboards {
  private readonly boards = new Map<string, Leaderboard>();
  /** The newest store time seen in a record, for catchUp. */
  private newest = 0;
  private catchUpTimer: Timer | undefined;
  private catchUpAgain: Timer | undefined;

  constructor(
    readonly backend: BoardBackend,
    readonly log: Logger,
    /** Milliseconds since the epoch (UTC); tests set the clock. */
    readonly clock: () => number = Date.now,
    /** In a cluster, the other nodes hear of this node's writes and removals. */
    readonly changes: BoardChanges = NO_CHANGES,
  ) {}

  /** Declares a board (once per id), in the game's `create`; its records are loaded before the first client. */
  define(spec: BoardSpec): Leaderboard {
    if (!BOARD_ID.test(spec.id)) throw new Error(`board id ${JSON.stringify(spec.id)}: expected 1 to 64 letters, digits, "_", "." or "-"`);
    if (this.boards.has(spec.id)) throw new Error(`board ${spec.id} is defined twice`);
    const board = new Leaderboard(spec.id, spec, this);
    this.boards.set(spec.id, board);
    return board;
  }

  get(id: string): Leaderboard | undefined {
    return this.boards.get(id);
  }

  /** Loads every board's records (at start). */
  async load(): Promise<void> {
    this.newest = await this.backend.newestChange();
    await Promise.all([...this.boards.values()].map((board) => board.load()));
  }

  /** An account's display name changed: its records on every board take it. Resolves once written or kept. */
  async rename(owner: number, name: string): Promise<void> {
    await Promise.all([...this.boards.values()].map((board) => board.rename(owner, name)));
  }

  /** A record another node's operator removed (or a board reset). */
  removedRemote(board: string, owner: number | undefined): void {
    this.boards.get(board)?.removed(owner);
  }

  /** Records another node wrote: each board takes what is newer than what it has. */
  applyRemote(rows: RecordRow[]): void {
    for (const row of rows) {
      this.newest = Math.max(this.newest, row.updatedAt);
      this.boards.get(row.board)?.apply(row);
    }
  }

  /**
   * Re-reads from the store what changed since shortly before the newest change seen (after a bus
   * outage, and now and then); resolves to the records read. Never rejects: a store that fails is
   * logged, and the next catch-up tries again.
   */
  async catchUp(): Promise<number> {
    try {
      const rows = await this.backend.changedRecords(this.newest - CATCH_UP_MARGIN_MS);
      this.applyRemote(rows);
      return rows.length;
    } catch (err) {
      this.log.warn(`Boards: could not catch up from the store: ${errorText(err)}`);
      return 0;
    }
  }

  /** Catches up every `ms` until closed (in a cluster). */
  catchUpEvery(ms: number): void {
    clearInterval(this.catchUpTimer);
    this.catchUpTimer = setInterval(() => void this.catchUp(), ms);
  }

  /** Catches up now and once more `ms` later (unless closed meanwhile). */
  catchUpNowAndAfter(ms: number): void {
    void this.catchUp();
    clearTimeout(this.catchUpAgain);
    this.catchUpAgain = setTimeout(() => void this.catchUp(), ms);
  }

  /** Called by a board with the records it wrote. */
  changed(rows: RecordRow[]): void {
    for (const row of rows) this.newest = Math.max(this.newest, row.updatedAt);
    if (rows.length > 0) this.changes.written(rows);
  }

  /** Writes what is pending (one last attempt each). */
  async close(): Promise<void> {
    clearInterval(this.catchUpTimer);
    clearTimeout(this.catchUpAgain);
    await Promise.all([...this.boards.values()].map((board) => board.close()));
  }
}
