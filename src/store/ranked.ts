// The store the server uses: a backend (SQLite or PostgreSQL) for accounts and best scores, and the
// hiscore board in memory beside it, loaded at start and kept in step with every write made through
// it. A search or a board then costs microseconds whatever the player's rank, and never waits on the
// database.
import type { StorageLimits } from "./objects.ts";
import { Ranking } from "./ranking.ts";
import { Storage } from "./storage.ts";
import type { Account, HiscoreEntry, Store, StoreBackend } from "./store.ts";

/** A change to the board, as told to the other nodes of a cluster (which share the backend). */
export type BoardChange = { kind: "account"; id: number; name: string; score: number } | { kind: "scores"; scores: [number, number][] };

export class RankedStore implements Store {
  /** Told every change made through this store. */
  onChange: (change: BoardChange) => void = () => undefined;

  readonly storage: Storage;

  private constructor(
    readonly backend: StoreBackend,
    private readonly ranking: Ranking,
    limits: StorageLimits,
  ) {
    this.storage = new Storage(backend.objects, limits);
  }

  static async over(backend: StoreBackend, limits: StorageLimits): Promise<RankedStore> {
    return new RankedStore(backend, Ranking.of(await backend.players()), limits);
  }

  get description(): string {
    return this.backend.description;
  }

  get schemaVersion(): number {
    return this.backend.schemaVersion;
  }

  /** Players on the board. */
  get players(): number {
    return this.ranking.count;
  }

  findAccount(username: string): Promise<Account | undefined> {
    return this.backend.findAccount(username);
  }

  async createAccount(username: string, passwordHash: string, color: number): Promise<Account> {
    const account = await this.backend.createAccount(username, passwordHash, color);
    this.ranking.add({ id: account.playerId, name: account.name, score: account.bestScore });
    this.onChange({ kind: "account", id: account.playerId, name: account.name, score: account.bestScore });
    return account;
  }

  hiscores(offset: number, limit = 10): HiscoreEntry[] {
    return this.ranking.board(offset, limit);
  }

  rankOf(name: string): number | undefined {
    return this.ranking.rankOf(name);
  }

  /** The board has the scores at once; the backend has them when written (or keeps them meanwhile). */
  saveBestScores(scores: Iterable<[playerId: number, score: number]>): Promise<void> {
    const list = [...scores];
    for (const [playerId, score] of list) this.ranking.raise(playerId, score);
    if (list.length > 0) this.onChange({ kind: "scores", scores: list });
    return this.backend.saveBestScores(list);
  }

  /** Another node's change, already in the backend: the board takes it. */
  applyChange(change: BoardChange): void {
    if (change.kind === "account") this.ranking.add({ id: change.id, name: change.name, score: change.score });
    else for (const [playerId, score] of change.scores) this.ranking.raise(playerId, score);
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}
