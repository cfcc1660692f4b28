// A tick of a room's world as the cluster's bus carries it: the owner writes what changed (entities
// added, moved, restated, removed; events; views) once, whatever the number of players and views, and
// every other node applies it to its replica of the table, then makes its own clients' frames. A
// whole dump (every entity and view) starts a replica, and mends one that missed a tick.
import type { Entity, EntityTable } from "./entities.ts";
import { ByteWriter, eventEntry, zigzag } from "./wire.ts";

/** A change of a member's view, as the owner made it (entities named by id). */
export type ViewChange =
  | { type: "view"; clientId: number; follow?: number; area?: { x: number; y: number } | null; radius?: number }
  | { type: "always"; clientId: number; entity: number; on: boolean }
  | { type: "forget"; clientId: number }
  | { type: "frames"; clientId: number };

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** What a replica does with a tick's view changes. */
export interface ViewTarget {
  change(change: ViewChange, entityOf: (id: number) => Entity | undefined): void;
}

/**
 * The tick's changes of `table` (before its endTick), or with `full` every entity; `views` are the
 * tick's view changes (or, with `full`, every view as it stands).
 */
export function writeTick(table: EntityTable, seq: number, full: boolean, views: readonly ViewChange[]): Uint8Array {
  const w = new ByteWriter(1024);
  const tick = table.tick;
  w.varint(seq);
  w.varint(full ? 1 : 0);
  const added: Entity[] = [];
  const moved: Entity[] = [];
  const restated: Entity[] = [];
  for (const entity of full ? table.entities.values() : table.moving) {
    if (full || entity.createdAt === tick) added.push(entity);
    else {
      if (entity.movedAt === tick) moved.push(entity);
      if (entity.stateAt === tick) restated.push(entity);
    }
  }
  w.varint(added.length);
  for (const e of added) {
    w.varint(e.id);
    const kind = textEncoder.encode(e.kind);
    w.varint(kind.length);
    w.raw(kind);
    w.varint(zigzag(e.qx));
    w.varint(zigzag(e.qy));
    blob(w, e.stateBytes);
  }
  w.varint(moved.length);
  for (const e of moved) {
    w.varint(e.id);
    w.varint(zigzag(e.qx));
    w.varint(zigzag(e.qy));
  }
  w.varint(restated.length);
  for (const e of restated) {
    w.varint(e.id);
    blob(w, e.stateBytes);
  }
  const removed = full ? [] : table.removed.filter((e) => e.createdAt !== tick);
  w.varint(removed.length);
  for (const e of removed) w.varint(e.id);
  const precision = table.replication.precision;
  w.varint(table.events.length);
  for (const event of table.events) {
    w.varint(zigzag(Math.round(event.x / precision)));
    w.varint(zigzag(Math.round(event.y / precision)));
    w.varint(event.senderId);
    blob(w, event.packet);
  }
  blob(w, views.length > 0 ? textEncoder.encode(JSON.stringify(views)) : undefined);
  return w.bytes().slice();
}

function blob(w: ByteWriter, bytes: Uint8Array | undefined): void {
  w.varint(bytes?.length ?? 0);
  if (bytes) w.raw(bytes);
}

/** A tick's header: its number, and whether it is a whole dump. */
export function tickHeader(bytes: Uint8Array): { seq: number; full: boolean } {
  const r = new Reader(bytes);
  return { seq: r.varint(), full: r.varint() === 1 };
}

/** Applies a tick (whole or not) to a replica's table and views. */
export function applyTick(bytes: Uint8Array, table: EntityTable, views: ViewTarget): void {
  const r = new Reader(bytes);
  r.varint();
  r.varint();
  const p = table.replication.precision;
  for (let n = r.varint(); n > 0; n--) {
    const id = r.varint();
    const kind = textDecoder.decode(r.bytes(r.varint()));
    const x = r.zigzag() * p;
    const y = r.zigzag() * p;
    const state = r.blob();
    table.get(id)?.remove();
    table.place(id, kind, x, y, state);
  }
  for (let n = r.varint(); n > 0; n--) {
    const entity = table.get(r.varint());
    const x = r.zigzag() * p;
    const y = r.zigzag() * p;
    entity?.move(x, y);
  }
  for (let n = r.varint(); n > 0; n--) {
    const entity = table.get(r.varint());
    const state = r.blob();
    if (entity && state) entity.setStateBytes(state);
  }
  for (let n = r.varint(); n > 0; n--) table.get(r.varint())?.remove();
  for (let n = r.varint(); n > 0; n--) {
    const x = r.zigzag() * p;
    const y = r.zigzag() * p;
    const senderId = r.varint();
    const packet = r.blob();
    if (packet) table.events.push({ x, y, entry: eventEntry(packet), packet, senderId });
  }
  const json = r.blob();
  if (json) for (const change of JSON.parse(textDecoder.decode(json)) as ViewChange[]) views.change(change, (id) => table.get(id));
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Uint8Array) {}

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = this.buf[this.at++];
      if (b === undefined) throw new Error("a world tick cut short");
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
  }

  zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  bytes(n: number): Uint8Array {
    if (this.at + n > this.buf.length) throw new Error("a world tick cut short");
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  blob(): Uint8Array | undefined {
    const n = this.varint();
    return n === 0 ? undefined : this.bytes(n).slice();
  }
}
