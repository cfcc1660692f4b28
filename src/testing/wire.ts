// Just enough of the wire format for the load generator to read 100,000s of packets a second without
// a full decode: the sender, the oneof field number, and the first field of the message.
import { MESSAGE_CASES, type MsgCase } from "../packets/index.ts";

/** The case of each oneof field number, as an array: a lookup per packet at 100,000s a second. */
const KIND_OF_FIELD: (MsgCase | undefined)[] = [];
for (const { case: kind, field } of MESSAGE_CASES) KIND_OF_FIELD[field] = kind;

/** Reads a varint at `pos`; returns [value, next position]. Values stay below 2^53. */
export function readVarint(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    const b = bytes[pos++];
    if (b === undefined) return [NaN, pos];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 128;
  }
}

export interface Peek {
  senderId: number;
  /** The oneof field number of the message (2 = chat, 3 = id, 8 = player, …). */
  field: number;
  /** The message's case, from the one map of cases (src/packets/cases.ts); undefined when unknown. */
  kind: MsgCase | undefined;
  /** Where the message's own bytes start, and end. */
  start: number;
  end: number;
}

export function peek(bytes: Uint8Array): Peek | undefined {
  let pos = 0;
  let senderId = 0;
  if (bytes[0] === 0x08) [senderId, pos] = readVarint(bytes, 1);
  // Most tags are one byte (fields below 16); game messages from 16 up take two.
  let tag = bytes[pos];
  if (tag === undefined) return undefined;
  let afterTag = pos + 1;
  if (tag >= 0x80) [tag, afterTag] = readVarint(bytes, pos);
  if ((tag & 7) !== 2) return undefined;
  const field = tag >>> 3;
  const [length, start] = readVarint(bytes, afterTag);
  return { senderId, field, kind: KIND_OF_FIELD[field], start, end: start + length };
}

/** A chat message whose text is a decimal integer (the load generator's send times), or NaN. */
export function chatNumber(bytes: Uint8Array, p: Peek): number {
  if (bytes[p.start] !== 0x0a) return NaN;
  const [length, start] = readVarint(bytes, p.start + 1);
  let n = 0;
  for (let i = start; i < start + length; i++) {
    const d = bytes[i]! - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

/** Field 1 (a varint) of the message: the id of an IdMessage or a PlayerMessage. */
export function firstVarint(bytes: Uint8Array, p: Peek): number {
  if (p.start >= p.end || bytes[p.start] !== 0x08) return 0;
  return readVarint(bytes, p.start + 1)[0];
}
