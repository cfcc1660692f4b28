// A room's world as its game sees it: entities to add, move, change and remove, events at a place, and
// each member's view. The framework sends every member that asked for frames one frame a tick.
import type { Msg } from "../packets/index.ts";
import { Entity, EntityError, EntityTable, type Replication } from "./entities.ts";
import { applyTick, tickHeader, writeTick, type ViewChange } from "./replica.ts";
import { waitedMs } from "./thread-clock.ts";
import { Views, type ClassicShow, type FrameSink, type ViewOptions } from "./views.ts";

export { Entity, EntityError, waitedMs, type ClassicShow, type Replication, type ViewOptions };

/** A view may be at most this many times the room's radius. */
const MAX_RADIUS_FACTOR = 4;
/** Ticks whose frame times are kept, for /healthz and the benchmarks. */
const FLUSH_HISTORY = 200;

/** What a game does with its room's world (RoomContext.replicate gives it). */
export interface Entities {
  /** Adds an entity at (x, y), with a state (one of the game's messages) if it has one. */
  add(kind: string, x: number, y: number, state?: Msg): Entity;
  get(id: number): Entity | undefined;
  readonly size: number;
  /** A message for the clients that see (x, y) this tick, in their next frame. */
  event(x: number, y: number, msg: Msg, senderId?: number): void;
  /** Centres a member's view on an entity (its own, usually) or a point; sets its radius. */
  view(clientId: number, view: ViewOptions): void;
  /** Makes a member see an entity wherever it is (a teammate), or no longer always (on = false). */
  alwaysSee(clientId: number, entity: Entity, on?: boolean): void;
  /** Whether the member asked for frames (then it needs none of the room's per-tick messages). */
  takesFrames(clientId: number): boolean;
  /** How many members take frames (when all do, the room's per-tick messages reach nobody). */
  readonly framesClients: number;
  /**
   * For a world larger than its clients' screens: each tick, `show` is told, per member that takes no
   * frames (the series' clients), what entered, changed and left its view, to send it the room's own
   * messages for those only. Without it, such members get whatever the room sends them.
   */
  showClassic(show: ClassicShow): void;
  /**
   * The recent ticks in ms (for /healthz and the benchmarks): `tickMs`, the room's whole tick in wall
   * time (the game's step and the frames); `framesMs`, the frames alone (made and sent); on Linux, how
   * the whole tick's wall time divides: `tickWaitMs`, the thread's time runnable but waiting for a CPU
   * (taken by other threads or processes), and `tickRunMs`, the rest (the tick's own work: running, or
   * held by the collector).
   */
  timings(): Timings;
}

export interface Timings {
  tickMs: Percentiles;
  framesMs: Percentiles;
  tickRunMs?: Percentiles;
  tickWaitMs?: Percentiles;
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface WorldOptions {
  /** Bytes a second each client's frames may take (--view-budget). */
  viewBudget: number;
  /** The room's ticks a second (0: it never ticks, and gives no frames). */
  tickHz: () => number;
}

/** How a shared room's world reaches the other nodes of a cluster (shared-rooms.ts makes it). */
export interface WorldLink {
  /** The owner's tick (or a whole dump), to every other node. */
  send(tick: Uint8Array): void;
  /** A replica that missed a tick asks the owner for a whole dump. */
  askWhole(): void;
}

/** A replica asks for a whole dump at most this often. */
const ASK_WHOLE_MS = 1000;

export class RoomWorld implements Entities {
  /** What the room writes: the world itself where the room runs. */
  readonly table: EntityTable;
  private views: Views | undefined;
  private link: WorldLink | undefined;
  /** On a node of a cluster that does not run the room: the owner's table, as its ticks tell it. */
  private replica: EntityTable | undefined;
  /** The last tick sent (on the owner) or applied (on a replica). */
  private seq = 0;
  private wholeNext = false;
  private awaitingWhole = false;
  private askedWholeAt = -Infinity;
  /** The views' changes this tick, for the replicas. */
  private viewLog: ViewChange[] = [];
  /** How long the last ticks' frames took to make and send, ms. */
  private readonly flushMs: number[] = [];
  /** How long the last ticks took in all (the game's step and the frames), ms. */
  private readonly tickMs: number[] = [];
  /** Of that, the thread's time waiting for a CPU, and the rest, ms (Linux only). */
  private readonly tickRunMs: number[] = [];
  private readonly tickWaitMs: number[] = [];

  constructor(
    readonly replication: Replication,
    private readonly options: WorldOptions,
    private readonly sink: FrameSink,
  ) {
    this.table = new EntityTable(replication);
  }

  private get viewsOf(): Views {
    // The room's tick rate is read when it is needed: a room may declare its world before its fields are set.
    const budgetPerTick = () => {
      const tickHz = this.options.tickHz();
      return tickHz > 0 ? this.options.viewBudget / tickHz : 0;
    };
    return (this.views ??= new Views(this.replica ?? this.table, { budgetPerTick, maxRadius: this.replication.viewRadius * MAX_RADIUS_FACTOR }, this.sink));
  }

  add(kind: string, x: number, y: number, state?: Msg): Entity {
    return this.table.add(kind, x, y, state);
  }

  get(id: number): Entity | undefined {
    return this.table.get(id);
  }

  get size(): number {
    return this.table.size;
  }

  event(x: number, y: number, msg: Msg, senderId = 0): void {
    this.table.event(x, y, msg, senderId);
  }

  view(clientId: number, view: ViewOptions): void {
    this.viewsOf.setView(clientId, view);
    const change: ViewChange = { type: "view", clientId };
    if ("follow" in view) change.follow = view.follow?.id ?? 0;
    if ("area" in view) change.area = view.area ?? null;
    if (view.radius !== undefined) change.radius = view.radius;
    this.record(change);
  }

  alwaysSee(clientId: number, entity: Entity, on = true): void {
    this.viewsOf.alwaysSee(clientId, entity, on);
    this.record({ type: "always", clientId, entity: entity.id, on });
  }

  private record(change: ViewChange): void {
    if (this.link && !this.replica) this.viewLog.push(change);
  }

  takesFrames(clientId: number): boolean {
    return this.views?.takesFrames(clientId) ?? false;
  }

  showClassic(show: ClassicShow): void {
    this.viewsOf.showClassic(show);
  }

  get framesClients(): number {
    return this.views?.framesClients ?? 0;
  }

  /** A member asks for frames: a refusal's reason, or undefined. */
  startFrames(clientId: number, radius: number): string | undefined {
    if (this.options.tickHz() <= 0) return "This room does not tick: it sends no frames";
    return this.viewsOf.startFrames(clientId, radius);
  }

  /** What a client that asked for frames is told (WorldInfoMessage). */
  info(clientId: number): { viewRadius: number; precision: number; tickHz: number; budget: number } {
    return { viewRadius: this.viewsOf.radiusOf(clientId), precision: this.replication.precision, tickHz: Math.round(this.options.tickHz()), budget: this.options.viewBudget };
  }

  resync(clientId: number): void {
    this.views?.resync(clientId);
  }

  forget(clientId: number): void {
    this.views?.forget(clientId);
    this.record({ type: "forget", clientId });
  }

  /** On the owner: a member connected to another node takes frames there. */
  markFrames(clientId: number): void {
    this.viewsOf.markFrames(clientId);
  }

  /** The room is shared by the nodes of a cluster: its ticks travel by `link`. */
  linkTo(link: WorldLink): void {
    this.link = link;
  }

  /** This node no longer runs the room (or never did): its views show the owner's world, once a whole dump of it comes. */
  becomeReplica(): void {
    this.replica = new EntityTable(this.replication);
    this.awaitingWhole = true;
    this.views?.useTable(this.replica);
  }

  /** This node runs the room from now: its views show its own world, and the others get a whole dump with the next tick. */
  becomeOwner(): void {
    if (!this.replica) return;
    this.replica = undefined;
    this.views?.useTable(this.table);
    this.wholeNext = true;
  }

  /** The owner is asked for a whole dump (a replica missed a tick, or has just begun). */
  sendWhole(): void {
    this.wholeNext = true;
  }

  /** A tick from the owner, on a replica: applied, then this node's clients get their frames. */
  received(tick: Uint8Array): void {
    if (!this.replica) return;
    const { seq, full } = tickHeader(tick);
    if (full) {
      this.replica = new EntityTable(this.replication);
      this.views?.useTable(this.replica);
      this.awaitingWhole = false;
    } else if (this.awaitingWhole || seq !== this.seq + 1) {
      this.awaitingWhole = true;
      const now = performance.now();
      if (now - this.askedWholeAt >= ASK_WHOLE_MS) {
        this.askedWholeAt = now;
        this.link?.askWhole();
      }
      return;
    }
    this.seq = seq;
    const views = this.viewsOf;
    applyTick(tick, this.replica, views);
    const started = performance.now();
    this.timed(started, waitedMs(), started, () => views.flush());
  }

  /**
   * The tick is over (it began at `tickStarted`, when its thread had waited `waitedBefore` ms for a CPU
   * in all): one frame to each member that takes frames (and, in a cluster, the tick to the other nodes).
   */
  flush(tickStarted = performance.now(), waitedBefore = waitedMs()): void {
    if (this.replica) return;
    const started = performance.now();
    if (this.link) {
      const whole = this.wholeNext;
      this.wholeNext = false;
      this.link.send(writeTick(this.table, ++this.seq, whole, whole ? (this.views?.dump() ?? []) : this.viewLog));
      this.viewLog = [];
    }
    this.timed(tickStarted, waitedBefore, started, () => (this.views ? this.views.flush() : this.table.endTick()));
  }

  private timed(tickStarted: number, waitedBefore: number | undefined, started: number, run: () => void): void {
    run();
    const now = performance.now();
    const waitedAfter = waitedBefore === undefined ? undefined : waitedMs();
    keep(this.flushMs, now - started);
    keep(this.tickMs, now - tickStarted);
    if (waitedBefore !== undefined && waitedAfter !== undefined) {
      const waited = waitedAfter - waitedBefore;
      keep(this.tickWaitMs, waited);
      keep(this.tickRunMs, now - tickStarted - waited);
    }
  }

  timings(): Timings {
    const thread = this.tickRunMs.length > 0 && { tickRunMs: percentiles(this.tickRunMs), tickWaitMs: percentiles(this.tickWaitMs) };
    return { tickMs: percentiles(this.tickMs), framesMs: percentiles(this.flushMs), ...thread };
  }
}

/** Adds a tick's figure to the recent ones, forgetting the oldest past FLUSH_HISTORY. */
function keep(recent: number[], value: number): void {
  recent.push(value);
  if (recent.length > FLUSH_HISTORY) recent.shift();
}

/** The p50, p99 and max of recent durations (0 when there are none). */
export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}
