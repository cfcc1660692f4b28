// The bytes of world frames, written by hand so that a frame is assembled from parts encoded once per
// tick (an entity's entry, an event) and never re-encoded per client. The layout is WorldFrameMessage's
// in packets.proto; test/world-frames.test.ts decodes what this writes with the generated codec.

/** Field numbers of WorldFrameMessage and EntityMessage (packets.proto). */
const FRAME = { seq: 1, tick: 2, reset: 3, own: 4, entered: 5, updated: 6, left: 7, events: 8 } as const;
const ENTITY = { id: 1, kind: 2, x: 3, y: 4, state: 5 } as const;
/** Packet's oneof field of world_frame. */
const WORLD_FRAME_FIELD = 112;

const VARINT = 0;
const LEN = 2;

export function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** A sint32's zigzag form: small magnitudes, either sign, take few bytes. */
export function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

/** Writes into a buffer that grows; `bytes()` is a view of what was written, valid until the next reset. */
export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(capacity = 4096) {
    this.buf = new Uint8Array(capacity);
  }

  reset(): void {
    this.length = 0;
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }

  varint(value: number): void {
    this.room(10);
    while (value >= 0x80) {
      this.buf[this.length++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buf[this.length++] = value;
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  raw(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

}

const textEncoder = new TextEncoder();

/** A length-delimited field's whole bytes (tag, length, body), in one array of its exact size. */
export function lengthDelimited(field: number, body: Uint8Array): Uint8Array {
  const tag = field * 8 + LEN;
  const out = new Uint8Array(varintSize(tag) + varintSize(body.length) + body.length);
  let at = putVarint(out, 0, tag);
  at = putVarint(out, at, body.length);
  out.set(body, at);
  return out;
}

function putVarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[at++] = value;
  return at;
}

/** EntityMessage.kind's field, encoded once per kind. */
export function kindField(kind: string): Uint8Array {
  return lengthDelimited(ENTITY.kind, textEncoder.encode(kind));
}

/** EntityMessage.state's field: the state as a whole Packet. */
export function stateField(packet: Uint8Array): Uint8Array {
  return lengthDelimited(ENTITY.state, packet);
}

export type EntryKind = "entered" | "updated";

const scratch = new ByteWriter(256);

/**
 * One entity's entry in a frame's `entered` or `updated` list, tag and length included: the id, the
 * kind (given only to entering entries), the quantized position, and the state field if given.
 */
export function entityEntry(list: EntryKind, id: number, qx: number, qy: number, kind: Uint8Array | undefined, state: Uint8Array | undefined): Uint8Array {
  const body = scratch;
  body.reset();
  body.tag(ENTITY.id, VARINT);
  body.varint(id);
  if (kind) body.raw(kind);
  if (qx !== 0) {
    body.tag(ENTITY.x, VARINT);
    body.varint(zigzag(qx));
  }
  if (qy !== 0) {
    body.tag(ENTITY.y, VARINT);
    body.varint(zigzag(qy));
  }
  if (state) body.raw(state);
  return lengthDelimited(FRAME[list], body.bytes());
}

/** An event's entry in a frame: a whole Packet as the `events` field. */
export function eventEntry(packet: Uint8Array): Uint8Array {
  return lengthDelimited(FRAME.events, packet);
}

export interface FrameHeader {
  seq: number;
  tick: number;
  reset: boolean;
  own: number;
}

/**
 * Writes one whole Packet{world_frame} into `out`: the header's fields, the parts (entries and events,
 * already tagged) and the left ids (packed). The parts are copied, never re-encoded.
 */
export function writeFrame(out: ByteWriter, header: FrameHeader, parts: readonly Uint8Array[], partsLength: number, left: readonly number[]): void {
  let leftLength = 0;
  for (const id of left) leftLength += varintSize(id);
  let body = 1 + varintSize(header.seq) + 1 + varintSize(header.tick) + partsLength;
  if (header.reset) body += 2;
  if (header.own !== 0) body += 1 + varintSize(header.own);
  if (leftLength > 0) body += 1 + varintSize(leftLength) + leftLength;
  out.reset();
  out.tag(WORLD_FRAME_FIELD, LEN);
  out.varint(body);
  out.tag(FRAME.seq, VARINT);
  out.varint(header.seq);
  out.tag(FRAME.tick, VARINT);
  out.varint(header.tick);
  if (header.reset) {
    out.tag(FRAME.reset, VARINT);
    out.varint(1);
  }
  if (header.own !== 0) {
    out.tag(FRAME.own, VARINT);
    out.varint(header.own);
  }
  for (const part of parts) out.raw(part);
  if (leftLength > 0) {
    out.tag(FRAME.left, LEN);
    out.varint(leftLength);
    for (const id of left) out.varint(id);
  }
}
