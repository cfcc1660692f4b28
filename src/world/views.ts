// What each member sees, and one frame per member per tick. A view is a circle around the entity it
// follows (or a point the room sets) plus the entities it is made to see always; an entity enters at
// the radius and leaves only past it by HYSTERESIS, so nothing flickers at a border. When more
// changed than the member's byte budget carries, the nearer and the longer-waiting go first: each tick
// an entity is not sent, its urgency grows by its weight, and sending it sets it back to nothing.
import type { Entity, EntityTable } from "./entities.ts";
import { ByteWriter, varintSize, writeFrame } from "./wire.ts";

/** An entity leaves a view only this fraction past its radius. */
export const HYSTERESIS = 0.15;
/** A view looks at every entity near it every this many ticks, and at the moving ones every tick. */
const FULL_SCAN_TICKS = 5;
/** The own entity's urgency: first in every frame. */
const OWN_URGENCY = 1e12;
/** Room in a frame's budget for its header (seq, tick, reset, own). */
const HEADER_BYTES = 20;

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
  seen = 0;
  distance = 0;
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
  readonly known = new Map<Entity, Known>();
  /** Frames were asked for. */
  frames = false;
  seq = 0;
  /** The next frame is a whole view (the first, and after a session resumed). */
  reset = true;
  lastFullScan = -Infinity;

  constructor(
    readonly clientId: number,
    radius: number,
  ) {
    this.radius = radius;
  }
}

export interface ViewsOptions {
  /** Bytes a client may be sent per tick (its --view-budget over the tick rate). */
  budgetPerTick: number;
  /** The largest radius a client may ask for. */
  maxRadius: number;
}

export class Views {
  private readonly viewers = new Map<number, Viewer>();
  private readonly out = new ByteWriter(16 * 1024);
  // Reused from frame to frame: a frame allocates nothing per client but its bytes on the socket.
  private readonly candidates: Known[] = [];
  private readonly parts: Uint8Array[] = [];
  private readonly left: number[] = [];

  constructor(
    private readonly table: EntityTable,
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

  /** The member asks for frames; a refusal's reason, or undefined when its frames start with the next tick. */
  startFrames(clientId: number, radius: number): string | undefined {
    if (!Number.isFinite(radius) || radius < 0 || radius > this.options.maxRadius) {
      return `View radius out of range: 0 (the room's ${this.table.replication.viewRadius}) up to ${this.options.maxRadius}`;
    }
    const viewer = this.viewer(clientId);
    if (viewer.frames) return "Frames were asked for already";
    viewer.frames = true;
    viewer.reset = true;
    if (radius > 0) viewer.radius = radius;
    return undefined;
  }

  /** The member's next frame is its whole view again (its session resumed). */
  resync(clientId: number): void {
    const viewer = this.viewers.get(clientId);
    if (!viewer) return;
    viewer.reset = true;
    viewer.known.clear();
  }

  /** The member left the room. */
  forget(clientId: number): void {
    this.viewers.delete(clientId);
  }

  /** One frame to every member that takes frames, then the next tick begins. */
  flush(): void {
    for (const viewer of this.viewers.values()) {
      if (!viewer.frames) continue;
      if (!this.sink.open(viewer.clientId)) {
        // A held session keeps no frames: it gets a whole view when it is back.
        viewer.reset = true;
        viewer.known.clear();
        continue;
      }
      this.frame(viewer);
    }
    this.table.endTick();
  }

  private frame(viewer: Viewer): void {
    const { table, candidates, parts, left } = this;
    const tick = table.tick;
    const reset = viewer.reset;
    if (reset) viewer.known.clear();
    const centre = viewer.follow && !viewer.follow.removed ? viewer.follow : viewer.area;
    const radius = viewer.radius;
    const outer = radius * (1 + HYSTERESIS);
    const full = reset || tick - viewer.lastFullScan >= FULL_SCAN_TICKS;
    if (full) viewer.lastFullScan = tick;
    const known = viewer.known;
    if (centre) {
      const cx = centre.x;
      const cy = centre.y;
      const enter2 = radius * radius;
      const stay2 = outer * outer;
      (full ? table.grid : table.movers).near(cx, cy, outer, (entity) => {
        const dx = entity.x - cx;
        const dy = entity.y - cy;
        const d2 = dx * dx + dy * dy;
        const k = known.get(entity);
        if (k) {
          if (d2 <= stay2) {
            k.seen = tick;
            k.distance = Math.sqrt(d2);
          }
        } else if (d2 <= enter2) {
          const fresh = new Known(entity);
          fresh.seen = tick;
          fresh.distance = Math.sqrt(d2);
          known.set(entity, fresh);
        }
      });
    }
    for (const entity of viewer.always) {
      if (entity.removed) {
        viewer.always.delete(entity);
        continue;
      }
      let k = known.get(entity);
      if (!k) known.set(entity, (k = new Known(entity)));
      k.seen = tick;
      k.distance = centre ? Math.hypot(entity.x - centre.x, entity.y - centre.y) : 0;
    }

    candidates.length = 0;
    left.length = 0;
    let leftBytes = 0;
    for (const k of known.values()) {
      const entity = k.entity;
      if (k.seen !== tick) {
        // Out of view (or gone). One that does not move is looked at again only by a full scan.
        if (entity.removed || full || table.isMoving(entity)) {
          if (k.entered) {
            left.push(entity.id);
            leftBytes += varintSize(entity.id);
          }
          known.delete(entity);
          continue;
        }
      }
      if (!k.entered || entity.movedAt > k.sentMove || entity.stateVersion > k.sentState) {
        const weight = entity === viewer.follow ? OWN_URGENCY : 1 / (0.1 + k.distance / radius) ** 2;
        k.urgency += weight;
        candidates.push(k);
      }
    }

    let budget = reset ? Infinity : this.options.budgetPerTick - HEADER_BYTES - leftBytes;
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
    if (candidates.length > 1) candidates.sort(byUrgency);
    for (const k of candidates) {
      const entity = k.entity;
      const entry = !k.entered ? entity.entry("entered") : entity.entry(entity.stateVersion > k.sentState ? "updatedWithState" : "updated");
      // The most urgent always goes, so that a tiny budget still moves the own entity.
      if (entry.length > budget && parts.length > 0) continue;
      budget -= entry.length;
      parts.push(entry);
      partsLength += entry.length;
      k.entered = true;
      k.urgency = 0;
      k.sentMove = entity.movedAt;
      k.sentState = entity.stateVersion;
    }
    viewer.reset = false;
    const own = viewer.follow && known.get(viewer.follow)?.entered ? viewer.follow.id : 0;
    writeFrame(this.out, { seq: ++viewer.seq, tick, reset, own }, parts, partsLength, left);
    this.sink.send(viewer.clientId, this.out.bytes());
  }
}

function byUrgency(a: Known, b: Known): number {
  return b.urgency - a.urgency;
}
