// Best scores on their way to a store: the highest per player is kept until it is written, and
// retried while the database is unavailable, so that a score the world has counted is not lost to an
// outage.
import { errorText, type Logger } from "../log.ts";

export type ScoreWriter = (scores: [playerId: number, score: number][]) => Promise<void>;

export class BestScoreQueue {
  private readonly unsaved = new Map<number, number>();
  private writing: Promise<void> | undefined;
  private retry: Timer | undefined;
  private failing = false;

  constructor(
    private readonly write: ScoreWriter,
    private readonly log: Logger,
    private readonly retryMs = 2000,
  ) {}

  /** How many players' scores wait to be written. */
  get size(): number {
    return this.unsaved.size;
  }

  /** Keeps the scores (the highest per player) and writes them; resolves once written or kept for a retry. */
  add(scores: Iterable<[playerId: number, score: number]>): Promise<void> {
    for (const [playerId, raw] of scores) {
      const score = Math.round(raw);
      if (score > (this.unsaved.get(playerId) ?? -Infinity)) this.unsaved.set(playerId, score);
    }
    return this.flush();
  }

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
    if (this.unsaved.size > 0) this.log.error(`${this.unsaved.size} best score(s) could not be saved: the database is unavailable`);
  }

  private async drain(): Promise<void> {
    while (this.unsaved.size > 0) {
      const batch = [...this.unsaved];
      try {
        await this.write(batch);
      } catch (err) {
        if (!this.failing) this.log.error(`Saving ${batch.length} best score(s) failed; kept, retrying every ${this.retryMs} ms: ${errorText(err)}`);
        this.failing = true;
        this.retry ??= setTimeout(() => {
          this.retry = undefined;
          void this.flush();
        }, this.retryMs);
        return;
      }
      // A score that rose meanwhile stays for the next round.
      for (const [playerId, score] of batch) if (this.unsaved.get(playerId) === score) this.unsaved.delete(playerId);
      if (this.failing) this.log.info(`Saved the best scores kept while the database was unavailable`);
      this.failing = false;
    }
  }
}
