// Frames for fuzzing: one valid Packet of every kind, and seeded mutations of them.
import { encodePacket, type Msg } from "../packets/index.ts";

export { seededRandom } from "../rooms/random.ts";

export const SAMPLE_MESSAGES: Msg[] = [
  { $case: "chat", value: { msg: "hello ✓" } },
  { $case: "id", value: { id: 42 } },
  { $case: "loginRequest", value: { username: "alice", password: "correct horse" } },
  { $case: "registerRequest", value: { username: "bob", password: "hunter2", color: -16711936 } },
  { $case: "okResponse", value: {} },
  { $case: "denyResponse", value: { reason: "no" } },
  { $case: "player", value: { id: 3, name: "Carol", x: 1.5, y: -2.5, radius: 20, direction: 1, speed: 150, color: 255 } },
  { $case: "playerDirection", value: { direction: 3.14 } },
  { $case: "spore", value: { id: 9, x: 10, y: 20, radius: 12 } },
  { $case: "sporeConsumed", value: { sporeId: 9 } },
  { $case: "sporesBatch", value: { spores: [{ id: 1, x: 0, y: 0, radius: 5 }, { id: 2, x: 1, y: 1, radius: 6 }] } },
  { $case: "playerConsumed", value: { playerId: 3 } },
  { $case: "hiscoreBoardRequest", value: {} },
  { $case: "hiscore", value: { rank: 1, name: "Alice", score: 1234 } },
  { $case: "hiscoreBoard", value: { hiscores: [{ rank: 1, name: "Alice", score: 1234 }] } },
  { $case: "finishedBrowsingHiscores", value: {} },
  { $case: "searchHiscore", value: { name: "ali%_'" } },
  { $case: "disconnect", value: { reason: "bye" } },
];

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
