// The Game API: what a game gives the framework (its states, its room types, what it reports) and
// what the framework gives a game. A game is one folder under src/games/ and one entry in its index.
import type { Accounts } from "../accounts/accounts.ts";
import type { Players } from "../players/players.ts";
import type { StateTable } from "../hub/states.ts";
import type { Stats } from "../hub/stats.ts";
import type { Logger } from "../log.ts";
import type { Leaderboards } from "../store/leaderboards.ts";
import type { Storage } from "../store/storage.ts";
import type { Matches } from "./matches.ts";
import type { RoomType, Rooms } from "./rooms.ts";

/** Metrics a game adds to /metrics, beside the framework's. */
export interface GameMetrics {
  /** A gauge read when /metrics is scraped. */
  gauge(name: string, help: string, read: () => number): void;
  histogram(name: string, help: string, buckets: number[]): { observe(value: number): void };
}

/** What the dashboard draws: tiles of figures, and things on a map (players, units, pieces). */
export interface DashboardView {
  /** A few named figures, shown as tiles ("Players": 12). */
  tiles?: Record<string, number | string>;
  /** Things with a place, drawn as coloured dots and listed by name and score. */
  players?: { id: number; name: string; score: number; x: number; y: number; radius: number; color: number }[];
}

/** The options of the command line a game reads. */
export interface GameOptions {
  /** --world-size: the side of the square its world spawns in. */
  worldSize: number;
}

/** What the framework gives a game, once per server. */
export interface GameContext {
  readonly options: GameOptions;
  readonly rooms: Rooms;
  /** Matchmaking queues: declare them, put players in; in a cluster, across every node. */
  readonly matches: Matches;
  /** The game's objects: per account or game-wide, versioned, in the server's database (see objects.ts). */
  readonly storage: Storage;
  /** The game's boards: declare them in `create`, read them from memory (see leaderboards.ts). */
  readonly leaderboards: Leaderboards;
  /** Register, login, one session per account, and the lobby state that uses them. */
  readonly accounts: Accounts;
  /** Players among themselves: a game's notifications (`notify`) and the status friends see (`setStatus`). */
  readonly players: Players;
  readonly stats: Stats;
  readonly metrics: GameMetrics;
  readonly log: Logger;
  /** Milliseconds on a monotonic clock; the same clock every room sees. */
  now(): number;
}

/** One server's running game. */
export interface GameRuntime {
  /** The per-connection states, the transitions between them, and which comes first. */
  states: StateTable;
  /**
   * Room types by name: a factory, or `{ create, capacity }` for rooms of at most `capacity` members
   * (which `ctx.rooms.joinOrCreate` fills in turn). Instances are made with `ctx.rooms.create(type, id?)`.
   */
  rooms: Record<string, RoomType>;
  /** Once the room types are defined and before the first client: make the rooms that always exist. */
  start?(): void;
  /**
   * At shutdown, once every client is gone and every room disposed, before the store closes: close
   * what the game opened, write what it keeps. Awaited.
   */
  stop?(): void | Promise<void>;
  /** Merged into /healthz. */
  health?(): Record<string, unknown>;
  /** Sent to open dashboards twice a second. */
  dashboard?(): DashboardView;
}

export interface Game {
  /** What `--game NAME` chooses. */
  name: string;
  /** One line, for --help. */
  description: string;
  create(ctx: GameContext): GameRuntime;
}

/** Declares a game; `src/games/index.ts` lists it under its name. */
export function defineGame(game: Game): Game {
  return game;
}
