// The bus's wire format: one Redis message is a batch of frames from one node, in the order the node
// made them. A batch starts with its origin node and the time it was sent (for the relay's lag);
// each frame is a kind and its fields. Packets travel as the bytes the origin encoded, once.
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const FrameKind = {
  /**
   * A broadcast on a topic: every node publishes the bytes to its own subscribers, but the sender.
   * `superseded`: a room's per-tick state, which the next tick replaces (not worth delivering late).
   */
  topic: 1,
  /** A packet for one client, in a room, wherever that client is connected. */
  direct: 2,
  /** A room member's message, to the room's owner. */
  roomMessage: 3,
  /** A client joins a room: to the owner, with what the client brings (JSON). */
  join: 4,
  /** A client leaves a room: to the owner, with the farewell its others hear (bytes, maybe none). */
  leave: 5,
  /** The owner moves a member's client to another state (the argument as JSON). */
  state: 6,
  /** Everything else, as JSON: owners, members reports, the board, the login throttle. */
  event: 7,
  /** A shared room's world tick (src/world/replica.ts), from its owner to every node. */
  world: 8,
} as const;

export type Frame =
  | { kind: typeof FrameKind.topic; topic: string; sender: number; exclude: boolean; superseded: boolean; bytes: Uint8Array }
  | { kind: typeof FrameKind.direct; room: string; clientId: number; bytes: Uint8Array }
  | { kind: typeof FrameKind.roomMessage; room: string; clientId: number; bytes: Uint8Array }
  | { kind: typeof FrameKind.join; room: string; clientId: number; json: string }
  | { kind: typeof FrameKind.leave; room: string; clientId: number; bytes: Uint8Array }
  | { kind: typeof FrameKind.state; room: string; clientId: number; state: string; json: string }
  | { kind: typeof FrameKind.event; json: string }
  | { kind: typeof FrameKind.world; room: string; bytes: Uint8Array };

/** Collects frames into one batch. */
export class BatchWriter {
  private buf: Uint8Array;
  private view: DataView;
  private at = 0;
  count = 0;

  constructor(origin: string, initialBytes = 4096) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
    this.string(origin);
    this.f64(0);
  }

  get bytes(): number {
    return this.at;
  }

  add(frame: Frame): void {
    this.count++;
    this.u8(frame.kind);
    switch (frame.kind) {
      case FrameKind.topic:
        this.string(frame.topic);
        this.f64(frame.sender);
        // Flags: 1 exclude the sender, 2 superseded (a node of the version before reads only the 1).
        this.u8((frame.exclude ? 1 : 0) | (frame.superseded ? 2 : 0));
        this.blob(frame.bytes);
        break;
      case FrameKind.direct:
      case FrameKind.roomMessage:
      case FrameKind.leave:
        this.string(frame.room);
        this.f64(frame.clientId);
        this.blob(frame.bytes);
        break;
      case FrameKind.join:
        this.string(frame.room);
        this.f64(frame.clientId);
        this.string(frame.json);
        break;
      case FrameKind.state:
        this.string(frame.room);
        this.f64(frame.clientId);
        this.string(frame.state);
        this.string(frame.json);
        break;
      case FrameKind.event:
        this.string(frame.json);
        break;
      case FrameKind.world:
        this.string(frame.room);
        this.blob(frame.bytes);
        break;
    }
  }

  /** The batch, stamped with the time it leaves. */
  finish(sentAt: number): Uint8Array {
    const originLength = this.view.getUint32(0);
    this.view.setFloat64(4 + originLength, sentAt);
    return this.buf.subarray(0, this.at);
  }

  private room(extra: number): void {
    if (this.at + extra <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.at + extra));
    grown.set(this.buf.subarray(0, this.at));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  private u8(value: number): void {
    this.room(1);
    this.buf[this.at++] = value;
  }

  private f64(value: number): void {
    this.room(8);
    this.view.setFloat64(this.at, value);
    this.at += 8;
  }

  private blob(bytes: Uint8Array): void {
    this.room(4 + bytes.length);
    this.view.setUint32(this.at, bytes.length);
    this.buf.set(bytes, this.at + 4);
    this.at += 4 + bytes.length;
  }

  private string(text: string): void {
    this.room(4 + text.length * 3);
    const { written } = encoder.encodeInto(text, this.buf.subarray(this.at + 4));
    this.view.setUint32(this.at, written);
    this.at += 4 + written;
  }
}

export interface Batch {
  origin: string;
  sentAt: number;
  frames: Frame[];
}

/** Reads a batch; throws on one that is cut short (never from a node of this version). */
export function readBatch(bytes: Uint8Array): Batch {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number) => {
    if (at + n > bytes.length) throw new Error(`a bus batch cut short at byte ${at} of ${bytes.length}`);
  };
  const u8 = () => (need(1), bytes[at++]!);
  const f64 = () => {
    need(8);
    const value = view.getFloat64(at);
    at += 8;
    return value;
  };
  const blob = () => {
    need(4);
    const length = view.getUint32(at);
    need(4 + length);
    const value = bytes.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return value;
  };
  const string = () => decoder.decode(blob());
  const origin = string();
  const sentAt = f64();
  const frames: Frame[] = [];
  while (at < bytes.length) {
    const kind = u8();
    switch (kind) {
      case FrameKind.topic: {
        const [topic, sender, flags] = [string(), f64(), u8()];
        frames.push({ kind, topic, sender, exclude: (flags & 1) === 1, superseded: (flags & 2) === 2, bytes: blob() });
        break;
      }
      case FrameKind.direct:
      case FrameKind.roomMessage:
      case FrameKind.leave:
        frames.push({ kind, room: string(), clientId: f64(), bytes: blob() });
        break;
      case FrameKind.join:
        frames.push({ kind, room: string(), clientId: f64(), json: string() });
        break;
      case FrameKind.state:
        frames.push({ kind, room: string(), clientId: f64(), state: string(), json: string() });
        break;
      case FrameKind.event:
        frames.push({ kind, json: string() });
        break;
      case FrameKind.world:
        frames.push({ kind, room: string(), bytes: blob() });
        break;
      default:
        throw new Error(`a bus frame of unknown kind ${kind}`);
    }
  }
  return { origin, sentAt, frames };
}
