// Frames for fuzzing: one valid Packet of every kind, and seeded mutations of them.
import { encodePacket, MESSAGE_CASES, type Msg } from "../packets/index.ts";

export { seededRandom } from "../rooms/random.ts";

/** A value of the same shape with every field set: strings with non-ASCII and SQL wildcards, numbers. */
function filled(value: unknown, n: number): unknown {
  if (typeof value === "string") return `sample ${n} ✓ %_'`;
  if (typeof value === "number") return n;
  if (typeof value === "boolean") return true;
  if (Array.isArray(value) || value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([key, v], i) => [key, filled(v, n + i)]));
}

/**
 * One valid message of every case of the protocol, from the one map of cases: a message added to
 * packets.proto is fuzzed as soon as it is generated.
 */
export const SAMPLE_MESSAGES: Msg[] = MESSAGE_CASES.map(({ empty }) => ({ ...empty, value: filled(empty.value, empty.$case.length) }) as Msg);

export const SAMPLE_FRAMES: Uint8Array[] = SAMPLE_MESSAGES.map((msg) => encodePacket(0, msg));

/** A random frame: pure noise, or a valid frame flipped, truncated, extended, spliced or repeated. */
export function fuzzFrame(random: () => number, maxLength = 512): Uint8Array {
  const int = (n: number) => Math.floor(random() * n);
  const base = SAMPLE_FRAMES[int(SAMPLE_FRAMES.length)]!;
  switch (int(6)) {
    case 0:
      return Uint8Array.from({ length: 1 + int(maxLength) }, () => int(256));
    case 1: {
      const frame = base.slice();
      for (let i = 0, flips = 1 + int(4); i < flips && frame.length > 0; i++) frame[int(frame.length)] = int(256);
      return frame;
    }
    case 2:
      return base.slice(0, int(base.length));
    case 3:
      return Uint8Array.from([...base, ...Array.from({ length: 1 + int(16) }, () => int(256))]);
    case 4: {
      const other = SAMPLE_FRAMES[int(SAMPLE_FRAMES.length)]!;
      return Uint8Array.from([...base.slice(0, int(base.length + 1)), ...other.slice(int(other.length + 1))]);
    }
    default: {
      // A huge length prefix or a deeply nested group: the shapes that break naive decoders.
      const tricks = [
        [0x12, 0xff, 0xff, 0xff, 0xff, 0x0f],
        [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        [0x0b, 0x0b, 0x0b, 0x0b, 0x0c],
        [0x1a, 0x02, 0x08],
        [0x0f],
        [0x0a],
      ];
      return Uint8Array.from([...base, ...tricks[int(tricks.length)]!]);
    }
  }
}
