// What each member sees, and one frame per member per tick. A view is a circle around the entity it
// follows (or a point the room sets) plus the entities it is made to see always; an entity enters at
// the radius and leaves only past it by HYSTERESIS, so nothing flickers at a border. When more
// changed than the member's byte budget carries, the nearer and the longer-waiting go first: each tick
// an entity is not sent, its urgency grows by its weight, and sending it sets it back to nothing.
import type { Entity, EntityTable } from "./entities.ts";
import type { ViewChange, ViewTarget } from "./replica.ts";
import { ByteWriter, varintSize, writeFrame } from "./wire.ts";

/** An entity leaves a view only this fraction past its radius. */
export const HYSTERESIS = 0.15;
/** A view looks at every entity near it every this many ticks, and at the moving ones every tick. */
const FULL_SCAN_TICKS = 5;
/** The own entity's urgency: first in every frame. */
const OWN_URGENCY = 1e12;
/** Buckets of urgency, a quarter of a doubling each from 2^-8 up to 2^23 (the own entity has one above them). */
const URGENCY_BUCKETS = 120;

/** An urgency's bucket: 4 per doubling of urgency × 256, from its highest bit and the two below it. */
function bucketOf(urgency: number): number {
  const scaled = urgency >= 0x800000 ? 0x7fffffff : Math.floor(urgency * 256);
  if (scaled < 4) return scaled > 0 ? scaled - 1 : 0;
  const high = 31 - Math.clz32(scaled);
  return Math.min(URGENCY_BUCKETS - 1, (high - 1) * 4 + ((scaled >>> (high - 2)) & 3) - 1);
}
/** The share of a frame's budget that states may take when the budget cannot carry every change. */
const STATE_SHARE = 0.5;
/** The fewest bytes an entry takes (tag, length, id's tag, id). */
const MIN_ENTRY_BYTES = 4;
/** Room in a frame's budget for its header (seq, tick, reset, own). */
const HEADER_BYTES = 20;
/**
 * A tick's budget not spent is kept for the next ticks, up to this many ticks' worth: a frame that
 * needs more than its share (a view moving onto a field of spores) takes what the quiet frames before
 * it left, and a second of frames still carries at most the budget a second (plus this much, once).
 */
const CARRY_TICKS = 4;

/**
 * What a room tells the members that take no frames, in a world larger than their screens: called a
 * tick per such member with the entities that entered its view, changed in it, and left it.
 */
export type ClassicShow = (clientId: number, entered: readonly Entity[], changed: readonly Entity[], left: readonly Entity[]) => void;

/** Where a client's frames go (the room's members on this node). */
export interface FrameSink {
  /** False while the client's connection is down (its session held): frames are not kept for it. */
  open(clientId: number): boolean;
  send(clientId: number, frame: Uint8Array): void;
}

/** What a viewer knows of one entity it sees. */
class Known {
  entered = false;
  sentMove = 0;
  sentState = 0;
  urgency = 0;
  /** The tick it was last found in view. */
  seen = 0;
  distance = 0;
  /** In this tick's candidates already. */
  queued = false;
  /** Its urgency's bucket, while candidates are ordered. */
  bucket = 0;
  /** No longer in the view's known (it left, or the view was cleared): lists that still hold it skip it. */
  gone = false;
  constructor(readonly entity: Entity) {}
}

export interface ViewOptions {
  /** The entity the view is centred on (the member's own, usually). */
  follow?: Entity | undefined;
  /** A fixed centre, for a view that follows nothing (a spectator, a map screen). */
  area?: { x: number; y: number } | undefined;
  /** The view's radius (default: the room's). */
  radius?: number;
}

class Viewer {
  follow: Entity | undefined;
  area: { x: number; y: number } | undefined;
  radius: number;
  readonly always = new Set<Entity>();
  /** By entity id. */
  readonly known = new Map<number, Known>();
  /** Frames were asked for. */
  frames = false;
  seq = 0;
  /** The next frame is a whole view (the first, and after a session resumed). */
  reset = true;
  lastFullScan = -Infinity;
  /** The moving entities found in view last tick: one not found again this tick has left. */
  movers: Known[] = [];
  /** Entities with something still to send (entering, or changed) that the budget held back. */
  pending: Known[] = [];
  /** Bytes this view may still send: a tick's budget each tick, what is not spent kept up to CARRY_TICKS' worth. */
  allowance = 0;

  constructor(
    readonly clientId: number,
    radius: number,
  ) {
    this.radius = radius;
  }
}

export interface ViewsOptions {
  /** Bytes a client may be sent per tick (its --view-budget over the tick rate), asked each tick. */
  budgetPerTick(): number;
  /** The largest radius a client may ask for. */
  maxRadius: number;
}

export class Views implements ViewTarget {
  private readonly viewers = new Map<number, Viewer>();
  private framing = 0;
  /** Set when the room shows the members that take no frames what is in their view (showClassic). */
  private classic: ClassicShow | undefined;
  private readonly entered: Entity[] = [];
  private readonly changed: Entity[] = [];
  private readonly leftEntities: Entity[] = [];
  /** The bytes of this frame's left list, counted against its budget. */
  private leftBytes = 0;
  private readonly out = new ByteWriter(16 * 1024);
  // Reused from frame to frame: a frame allocates nothing per client but its bytes on the socket.
  private readonly candidates: Known[] = [];
  private found: Known[] = [];
  /** Counts views worked out: each stamps the entities it knows with a mark of its own. */
  private mark = 0;
  private readonly cells: Entity[][] = [];
  private readonly bucketCounts = new Int32Array(URGENCY_BUCKETS + 1);
  private readonly ordered: Known[] = [];
  private readonly parts: Uint8Array[] = [];
  private readonly left: number[] = [];

  constructor(
    private table: EntityTable,
    private readonly options: ViewsOptions,
    private readonly sink: FrameSink,
  ) {}

  private viewer(clientId: number): Viewer {
    let viewer = this.viewers.get(clientId);
    if (!viewer) this.viewers.set(clientId, (viewer = new Viewer(clientId, this.table.replication.viewRadius)));
    return viewer;
  }

  /** Sets what the member's view is centred on, and its radius. */
  setView(clientId: number, view: ViewOptions): void {
    const viewer = this.viewer(clientId);
    if ("follow" in view) viewer.follow = view.follow;
    if ("area" in view) viewer.area = view.area && { x: view.area.x, y: view.area.y };
    if (view.radius !== undefined) viewer.radius = view.radius;
  }

  /** Makes the member see the entity wherever it is (a teammate), or (on false) no longer always. */
  alwaysSee(clientId: number, entity: Entity, on = true): void {
    if (on) this.viewer(clientId).always.add(entity);
    else this.viewers.get(clientId)?.always.delete(entity);
  }

  radiusOf(clientId: number): number {
    return this.viewers.get(clientId)?.radius ?? this.table.replication.viewRadius;
  }

  takesFrames(clientId: number): boolean {
    return this.viewers.get(clientId)?.frames === true;
  }

  /** From now, the members that take no frames are shown their view through `show` each tick. */
  showClassic(show: ClassicShow): void {
    this.classic = show;
  }

  /** How many members take frames. */
  get framesClients(): number {
    return this.framing;
  }

  /** The member asks for frames; a refusal's reason, or undefined when its frames start with the next tick. */
  startFrames(clientId: number, radius: number): string | undefined {
    if (!Number.isFinite(radius) || radius < 0 || radius > this.options.maxRadius) {
      return `View radius out of range: 0 (the room's ${this.table.replication.viewRadius}) up to ${this.options.maxRadius}`;
    }
    const viewer = this.viewer(clientId);
    if (viewer.frames) return "Frames were asked for already";
    viewer.frames = true;
    this.framing++;
    this.clear(viewer);
    if (radius > 0) viewer.radius = radius;
    return undefined;
  }

  /** The member's next frame is its whole view again (its session resumed). */
  resync(clientId: number): void {
    const viewer = this.viewers.get(clientId);
    if (!viewer) return;
    this.clear(viewer);
  }

  private clear(viewer: Viewer): void {
    viewer.reset = true;
    for (const k of viewer.known.values()) k.gone = true;
    viewer.known.clear();
    viewer.movers.length = 0;
    viewer.pending.length = 0;
  }

  /**
   * Views look at another table from now (a cluster's node became the room's owner, or took a whole
   * dump of it): every view starts again with a whole frame, and forgets the entities it followed.
   */
  useTable(table: EntityTable): void {
    this.table = table;
    for (const viewer of this.viewers.values()) {
      this.clear(viewer);
      viewer.follow = undefined;
      viewer.always.clear();
    }
  }

  /** Every view as it stands, as the changes that make it (a whole dump for a replica). */
  dump(): ViewChange[] {
    const changes: ViewChange[] = [];
    for (const v of this.viewers.values()) {
      changes.push({ type: "view", clientId: v.clientId, follow: v.follow?.id ?? 0, area: v.area ?? null, radius: v.radius });
      for (const entity of v.always) changes.push({ type: "always", clientId: v.clientId, entity: entity.id, on: true });
      if (v.frames) changes.push({ type: "frames", clientId: v.clientId });
    }
    return changes;
  }

  /** A change the owner made, on a replica. */
  change(change: ViewChange, entityOf: (id: number) => Entity | undefined): void {
    switch (change.type) {
      case "view": {
        const view: ViewOptions = {};
        if (change.follow !== undefined) view.follow = change.follow === 0 ? undefined : entityOf(change.follow);
        if (change.area !== undefined) view.area = change.area ?? undefined;
        if (change.radius !== undefined) view.radius = change.radius;
        this.setView(change.clientId, view);
        return;
      }
      case "always": {
        const entity = entityOf(change.entity);
        if (entity) this.alwaysSee(change.clientId, entity, change.on);
        return;
      }
      case "forget":
        return this.forget(change.clientId);
      case "frames":
        return this.markFrames(change.clientId);
    }
  }

  /** The member takes frames from another node (its own): counted, and none made here. */
  markFrames(clientId: number): void {
    const viewer = this.viewer(clientId);
    if (viewer.frames) return;
    viewer.frames = true;
    this.framing++;
  }

  /** The member left the room. */
  forget(clientId: number): void {
    if (this.viewers.get(clientId)?.frames) this.framing--;
    this.viewers.delete(clientId);
  }

  /** One frame to every member that takes frames, then the next tick begins. */
  flush(): void {
    for (const viewer of this.viewers.values()) {
      if (!viewer.frames && !this.classic) continue;
      if (!this.sink.open(viewer.clientId)) {
        // A held session keeps no frames: it gets a whole view when it is back.
        this.clear(viewer);
        continue;
      }
      this.frame(viewer);
    }
    this.table.endTick();
  }

  /**
   * One member's frame. A full scan (every FULL_SCAN_TICKS, and for a reset) looks at every entity near
   * the view and every one known; the ticks between look only at the moving ones near it, the moving
   * ones it saw last tick, those removed, and what the budget held back: still entities cost nothing.
   */
  private frame(viewer: Viewer): void {
    const { table, candidates, left } = this;
    const tick = table.tick;
    const reset = viewer.reset;
    if (reset) this.clear(viewer);
    const centre = viewer.follow && !viewer.follow.removed ? viewer.follow : viewer.area;
    const radius = viewer.radius;
    const outer = radius * (1 + HYSTERESIS);
    const full = reset || tick - viewer.lastFullScan >= FULL_SCAN_TICKS;
    // Views take their full scans on different ticks, so that no tick does them all.
    if (full) viewer.lastFullScan = reset ? tick - (viewer.clientId % FULL_SCAN_TICKS) : tick;
    const known = viewer.known;
    const found = this.found;
    found.length = 0;
    if (centre) {
      const cx = centre.x;
      const cy = centre.y;
      const enter2 = radius * radius;
      const stay2 = outer * outer;
      // Stamp what this view knows among what the scan may meet: the scan then needs no lookup for them.
      const mark = ++this.mark;
      if (full) {
        for (const k of known.values()) {
          k.entity.mark = mark;
          k.entity.marked = k;
        }
      } else {
        for (const k of viewer.movers) {
          k.entity.mark = mark;
          k.entity.marked = k;
        }
      }
      const cells = this.cells;
      (full ? table.grid : table.movers).cellsNear(cx, cy, outer, cells);
      for (let c = 0; c < cells.length; c++) {
        const cell = cells[c]!;
        for (let i = 0; i < cell.length; i++) {
          const entity = cell[i]!;
          const dx = entity.x - cx;
          const dy = entity.y - cy;
          const d2 = dx * dx + dy * dy;
          if (d2 > stay2) continue;
          let k: Known | undefined;
          if (entity.mark === mark) k = entity.marked as Known;
          else {
            // A full scan stamped every known entity; between them, one may be known and have just moved.
            k = full ? undefined : known.get(entity.id);
            if (!k) {
              if (d2 > enter2) continue;
              known.set(entity.id, (k = new Known(entity)));
            }
          }
          k.seen = tick;
          k.distance = Math.sqrt(d2);
          found.push(k);
        }
      }
    }
    for (const entity of viewer.always) {
      if (entity.removed) {
        viewer.always.delete(entity);
        continue;
      }
      let k = known.get(entity.id);
      if (!k) known.set(entity.id, (k = new Known(entity)));
      k.seen = tick;
      k.distance = centre ? Math.hypot(entity.x - centre.x, entity.y - centre.y) : 0;
      found.push(k);
    }

    candidates.length = 0;
    left.length = 0;
    this.leftEntities.length = 0;
    this.leftBytes = 0;
    if (full) {
      for (const k of known.values()) {
        if (k.seen !== tick) this.leave(viewer, k);
        else this.consider(viewer, k);
      }
    } else {
      for (const k of found) this.consider(viewer, k);
      // A mover seen last tick and not now has left (a still one waits for the next full scan).
      for (const k of viewer.movers) {
        if (k.seen !== tick && !k.gone && (k.entity.removed || k.entity.moving)) this.leave(viewer, k);
      }
      for (const entity of table.removed) {
        const k = known.get(entity.id);
        if (k !== undefined && k.entity === entity) this.leave(viewer, k);
      }
      for (const k of viewer.pending) if (!k.gone) this.consider(viewer, k);
    }
    // The movers found this tick are next tick's to look for (in last tick's array: nothing allocated).
    const lastMovers = viewer.movers;
    viewer.movers = this.keepMovers(found, lastMovers);

    if (!viewer.frames) return this.toClassic(viewer, centre, outer);

    const parts = this.parts;
    const perTick = this.options.budgetPerTick();
    viewer.allowance = Math.min(viewer.allowance + perTick, perTick * CARRY_TICKS);
    let budget = reset ? Infinity : viewer.allowance - HEADER_BYTES - this.leftBytes;
    parts.length = 0;
    let partsLength = 0;
    if (centre) {
      for (const event of table.events) {
        const dx = event.x - centre.x;
        const dy = event.y - centre.y;
        if (dx * dx + dy * dy > outer * outer) continue;
        parts.push(event.entry);
        partsLength += event.entry.length;
        budget -= event.entry.length;
      }
    }
    // Ordered only when the budget cannot carry them all (most frames of a spread-out world can).
    let wanted = candidates.length * MIN_ENTRY_BYTES;
    if (wanted <= budget) {
      wanted = 0;
      for (const k of candidates) wanted += k.entered ? k.entity.entry(k.entity.stateVersion > k.sentState ? "updatedWithState" : "updated").length : k.entity.entry("entered").length;
    }
    const ordered = wanted > budget && candidates.length > 1 ? this.byUrgency(candidates) : candidates;
    const pending = viewer.pending;
    pending.length = 0;
    // When the budget cannot carry every change, states (whole messages, often several times a
    // position's size) take at most STATE_SHARE of it, the most urgent first, so that a crowd whose
    // states change often still moves on every screen. An entity whose state waits still has its
    // position sent; its newest state goes in a later frame (a whole message: the versions between
    // are never needed).
    let stateBudget = ordered === candidates ? Infinity : budget * STATE_SHARE;
    for (const k of ordered) {
      k.queued = false;
      // Nothing more fits: the rest wait (without a look at their entries).
      if (budget < MIN_ENTRY_BYTES && parts.length > 0) {
        pending.push(k);
        continue;
      }
      const entity = k.entity;
      let entry = k.entered ? entity.entry("updated") : entity.entry("entered");
      let stateLength = 0;
      if (k.entered && entity.stateVersion > k.sentState) {
        const withState = entity.entry("updatedWithState");
        if (withState.length - entry.length <= stateBudget) {
          stateLength = withState.length - entry.length;
          entry = withState;
        } else if (entity.movedAt <= k.sentMove) {
          pending.push(k);
          continue;
        }
      }
      // The most urgent always goes, so that a tiny budget still moves the own entity.
      if (entry.length > budget && parts.length > 0) {
        pending.push(k);
        continue;
      }
      budget -= entry.length;
      stateBudget -= stateLength;
      parts.push(entry);
      partsLength += entry.length;
      if (!k.entered || stateLength > 0) k.sentState = entity.stateVersion;
      k.entered = true;
      k.urgency = 0;
      k.sentMove = entity.movedAt;
    }
    viewer.reset = false;
    const own = viewer.follow && known.get(viewer.follow.id)?.entered ? viewer.follow.id : 0;
    writeFrame(this.out, { seq: ++viewer.seq, tick, reset, own }, parts, partsLength, left);
    // A reset frame is the whole view whatever it costs, and is not charged: the frames after it go on as before.
    if (!reset) viewer.allowance = Math.max(0, viewer.allowance - this.out.length);
    this.sink.send(viewer.clientId, this.out.bytes());
  }

  /** The entity is out of the member's view (or gone): told left, if it was told it entered. */
  private leave(viewer: Viewer, k: Known): void {
    if (k.entered) {
      this.left.push(k.entity.id);
      this.leftEntities.push(k.entity);
      this.leftBytes += varintSize(k.entity.id);
    }
    viewer.known.delete(k.entity.id);
    k.gone = true;
  }

  /** The entity has something to send the member (it enters, or changed): a candidate, more urgent by its nearness. */
  private consider(viewer: Viewer, k: Known): void {
    const entity = k.entity;
    if (k.queued || (k.entered && entity.movedAt <= k.sentMove && entity.stateVersion <= k.sentState)) return;
    k.queued = true;
    const near = 0.1 + k.distance / viewer.radius;
    k.urgency += entity === viewer.follow ? OWN_URGENCY : 1 / (near * near);
    this.candidates.push(k);
  }

  /** A member that takes no frames: the room shows it what entered, changed and left its view (no budget). */
  private toClassic(viewer: Viewer, centre: { x: number; y: number } | undefined, outer: number): void {
    const { entered, changed } = this;
    entered.length = 0;
    changed.length = 0;
    for (const k of this.candidates) {
      k.queued = false;
      // The entity it follows (its own player) first, as a joining client of the series expects.
      if (!k.entered && k.entity === viewer.follow) entered.unshift(k.entity);
      else (k.entered ? changed : entered).push(k.entity);
      k.entered = true;
      k.urgency = 0;
      k.sentMove = k.entity.movedAt;
      k.sentState = k.entity.stateVersion;
    }
    viewer.reset = false;
    if (entered.length > 0 || changed.length > 0 || this.leftEntities.length > 0) this.classic!(viewer.clientId, entered, changed, this.leftEntities);
    if (!centre) return;
    for (const event of this.table.events) {
      const dx = event.x - centre.x;
      const dy = event.y - centre.y;
      if (event.senderId !== viewer.clientId && dx * dx + dy * dy <= outer * outer) this.sink.send(viewer.clientId, event.packet);
    }
  }

  /**
   * The candidates, most urgent first, by buckets of a quarter of a doubling of urgency (a counting
   * sort: in a crowd of 500 in view, a comparison sort per view took a third of the tick). A bucket is
   * read from the urgency's integer part at 1/256 (its highest bit and the two after it): no logarithm.
   */
  private byUrgency(candidates: Known[]): Known[] {
    const counts = this.bucketCounts;
    counts.fill(0);
    for (const k of candidates) {
      k.bucket = k.urgency >= OWN_URGENCY ? URGENCY_BUCKETS : bucketOf(k.urgency);
      counts[k.bucket]!++;
    }
    let at = 0;
    for (let b = URGENCY_BUCKETS; b >= 0; b--) {
      const n = counts[b]!;
      counts[b] = at;
      at += n;
    }
    const ordered = this.ordered;
    ordered.length = candidates.length;
    for (const k of candidates) ordered[counts[k.bucket]!++] = k;
    return ordered;
  }

  /** The moving entities among those found, into the viewer's array of last tick (reused). */
  private keepMovers(found: Known[], into: Known[]): Known[] {
    into.length = 0;
    for (const k of found) if (k.entity.moving) into.push(k);
    return into;
  }
}

