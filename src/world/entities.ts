// A room's replicated entities: an id, a kind, a position and a typed state (one of the game's
// messages). The room changes them; the views (views.ts) decide who sees what. Each entity's parts of a
// frame are encoded at most once a tick, whatever the number of clients that see it.
import { decodePacket, encodePacket, type Msg } from "../packets/index.ts";
import { CellGrid } from "./grid.ts";
import { entityEntry, eventEntry, kindField, stateField } from "./wire.ts";

/** What a room declares to replicate entities (Room.replication). */
export interface Replication {
  /** How far a member sees, in the game's units, around the entity its view follows. */
  viewRadius: number;
  /** The smallest step of a position on the wire, in the game's units (positions are whole multiples of it). */
  precision: number;
}

/** An entity counts as moving for this many ticks after it last moved (or appeared). */
const MOVER_TICKS = 10;
const SINT32_MAX = 2 ** 31 - 1;

export class EntityError extends Error {}

export class Entity {
  /** The tick of the last change of position (as sent: a move within the precision changes nothing). */
  movedAt: number;
  /** Counts changes of state; 0: no state. */
  stateVersion = 0;
  /** The tick of its last change of any kind. */
  activeAt: number;
  /** The ticks it was added in, and its state last changed in (for a cluster's replicas). */
  readonly createdAt: number;
  stateAt = 0;
  /**
   * @internal views.ts: the view now being worked out stamps the entities it knows with its own mark
   * and what it knows of each, so that its scan finds them without a lookup per entity.
   */
  mark = 0;
  marked: unknown;
  removed = false;
  /** Moved or appeared lately, in the table's moving set (views look at it every tick); a field, so that views ask without a lookup. */
  moving = false;
  /** The quantized position, as a frame carries it. */
  qx = 0;
  qy = 0;
  private state: Uint8Array | undefined;
  private decoded: Msg | undefined;
  private decodedAt = -1;
  private cachedAt = -1;
  private entered: Uint8Array | undefined;
  private updated: Uint8Array | undefined;
  private updatedWithState: Uint8Array | undefined;

  constructor(
    private readonly table: EntityTable,
    /** Unique in the room, never reused while it lives. */
    readonly id: number,
    readonly kind: string,
    private readonly kindBytes: Uint8Array,
    public x: number,
    public y: number,
  ) {
    this.quantize();
    this.movedAt = this.activeAt = this.createdAt = table.tick;
  }

  /** The state as a frame's field (tag, length, Packet), if it has one. */
  get stateBytes(): Uint8Array | undefined {
    return this.state;
  }

  /** The state as a message (decoded from its bytes, once a change): what a room shows a client that takes no frames. */
  stateMessage(): Msg | undefined {
    if (!this.state) return undefined;
    if (this.decodedAt !== this.stateVersion) {
      this.decodedAt = this.stateVersion;
      // The field's tag and length come first: the Packet follows them.
      let at = 1;
      while (this.state[at]! >= 0x80) at++;
      this.decoded = decodePacket(this.state.subarray(at + 1)).msg;
    }
    return this.decoded;
  }

  /** Moves the entity; a move within the precision sends nothing. */
  move(x: number, y: number): void {
    if (this.removed) return;
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new EntityError(`entity ${this.id} (${this.kind}) moved to no position: x and y must be finite numbers, got ${x}, ${y}`);
    this.x = x;
    this.y = y;
    const { qx, qy } = this;
    this.quantize();
    if (this.qx === qx && this.qy === qy) return;
    this.movedAt = this.table.tick;
    this.table.moved(this);
  }

  /** Replaces the entity's state (the whole message; clients that see it get it once, with the next frame that carries it). */
  setState(state: Msg): void {
    this.setStateBytes(stateField(encodePacket(0, state)));
  }

  /** Replaces the state with a frame's state field as it is (a replica takes its owner's). */
  setStateBytes(field: Uint8Array): void {
    if (this.removed) return;
    this.state = field;
    this.stateVersion++;
    this.stateAt = this.table.tick;
    // A change of state makes it one the views look at every tick for a while, as a move does.
    this.table.touched(this);
  }

  /** Takes the entity out of the world: every client that saw it is told, once. */
  remove(): void {
    this.table.remove(this);
  }

  /** This entity's entry in a frame, encoded once a tick: `entered` (whole), or `updated` with or without its state. */
  entry(kind: "entered" | "updated" | "updatedWithState"): Uint8Array {
    if (this.cachedAt !== this.table.tick) {
      this.cachedAt = this.table.tick;
      this.entered = this.updated = this.updatedWithState = undefined;
    }
    if (kind === "entered") return (this.entered ??= entityEntry("entered", this.id, this.qx, this.qy, this.kindBytes, this.state));
    if (kind === "updated") return (this.updated ??= entityEntry("updated", this.id, this.qx, this.qy, undefined, undefined));
    return (this.updatedWithState ??= entityEntry("updated", this.id, this.qx, this.qy, undefined, this.state));
  }

  private quantize(): void {
    const { precision } = this.table.replication;
    this.qx = Math.max(-SINT32_MAX, Math.min(SINT32_MAX, Math.round(this.x / precision)));
    this.qy = Math.max(-SINT32_MAX, Math.min(SINT32_MAX, Math.round(this.y / precision)));
  }
}

/** A room's message at a place, for the clients that see the place this tick (an eat, a respawn). */
export interface WorldEvent {
  x: number;
  y: number;
  /** As a frame's field, and as a Packet of its own (for the clients that take no frames). */
  entry: Uint8Array;
  packet: Uint8Array;
  /** Who it is from (0: the room): a client that takes no frames is not told its own, as the series' rooms never echo one. */
  senderId: number;
}

export class EntityTable {
  readonly entities = new Map<number, Entity>();
  /** Every entity, by cell: what a view's full scan looks at. */
  readonly grid: CellGrid<Entity>;
  /** The entities that moved or appeared lately: what a view looks at between its full scans. */
  readonly movers: CellGrid<Entity>;
  /** The entities that moved or changed lately (what a cluster's owner looks at for the tick's changes). */
  readonly moving = new Set<Entity>();
  /** The tick now being made: changes are stamped with it, and the next frames carry them. */
  tick = 1;
  /** This tick's events, sent with its frames. */
  events: WorldEvent[] = [];
  /** The entities removed this tick: every view that knows one tells it left. */
  removed: Entity[] = [];
  private nextId = 1;
  private readonly kinds = new Map<string, Uint8Array>();

  constructor(readonly replication: Replication) {
    const { viewRadius, precision } = replication;
    if (!(viewRadius > 0) || !Number.isFinite(viewRadius)) throw new EntityError(`replication: viewRadius must be a positive number, got ${viewRadius}`);
    if (!(precision > 0) || !Number.isFinite(precision)) throw new EntityError(`replication: precision must be a positive number, got ${precision}`);
    // Cells of a third of the radius for every entity: the cells a view's circle touches cover about
    // 5.5 R² for a circle of 4.2 R². Half the radius for the movers, which are fewer: fewer cells to
    // look up for a few more entities (at 1,000 players, the quickest of R/3, R/2 and R/1.5).
    this.grid = new CellGrid(viewRadius / 3);
    this.movers = new CellGrid(viewRadius / 2);
  }

  get size(): number {
    return this.entities.size;
  }

  add(kind: string, x: number, y: number, state?: Msg): Entity {
    if (typeof kind !== "string" || kind === "") throw new EntityError("an entity needs a kind (a non-empty string)");
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new EntityError(`an entity of kind ${kind} has no position: x and y must be finite numbers, got ${x}, ${y}`);
    return this.place(this.nextId++, kind, x, y, state && stateField(encodePacket(0, state)));
  }

  /** An entity with the id its owner gave it (a cluster's replica of the owner's table). */
  place(id: number, kind: string, x: number, y: number, state: Uint8Array | undefined): Entity {
    let kindBytes = this.kinds.get(kind);
    if (!kindBytes) this.kinds.set(kind, (kindBytes = kindField(kind)));
    this.nextId = Math.max(this.nextId, id + 1);
    const entity = new Entity(this, id, kind, kindBytes, x, y);
    if (state) entity.setStateBytes(state);
    this.entities.set(entity.id, entity);
    this.grid.insert(entity);
    this.moved(entity);
    return entity;
  }

  get(id: number): Entity | undefined {
    return this.entities.get(id);
  }

  remove(entity: Entity): void {
    if (entity.removed) return;
    entity.removed = true;
    this.removed.push(entity);
    this.entities.delete(entity.id);
    this.grid.remove(entity);
    this.movers.remove(entity);
    this.moving.delete(entity);
    entity.moving = false;
  }

  event(x: number, y: number, msg: Msg, senderId: number): void {
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new EntityError(`an event (${msg.$case}) has no position: x and y must be finite numbers`);
    const packet = encodePacket(senderId, msg);
    this.events.push({ x, y, entry: eventEntry(packet), packet, senderId });
  }

  /** @internal Entity.move's bookkeeping. */
  moved(entity: Entity): void {
    this.grid.moved(entity);
    this.touched(entity);
  }

  /** @internal The entity changed: it counts as moving (views look at it every tick) for MOVER_TICKS. */
  touched(entity: Entity): void {
    entity.activeAt = this.tick;
    if (entity.moving) this.movers.moved(entity);
    else if (this.entities.has(entity.id)) {
      entity.moving = true;
      this.moving.add(entity);
      this.movers.insert(entity);
    }
  }

  /** The tick's frames are out: the next tick begins; entities still for a while stop counting as moving. */
  endTick(): void {
    this.events = [];
    this.removed = [];
    for (const entity of this.moving) {
      if (this.tick - entity.activeAt < MOVER_TICKS) continue;
      this.moving.delete(entity);
      entity.moving = false;
      this.movers.remove(entity);
    }
    this.tick++;
  }
}
