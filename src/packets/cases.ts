// The one map of the protocol's message cases: every case of Packet's oneof with its field number and
// an empty value, read off the generated decoder at start. Handler tables are checked against it, and
// the fuzz samples and the load tools are built from it, so a message added to packets.proto reaches
// all of them after `bun run gen` with no list to edit by hand.
import { Packet } from "./generated/packets.generated.ts";

export type Msg = NonNullable<Packet["msg"]>;
export type MsgCase = Msg["$case"];
/** The message type of one case: `MsgValue<"chat">` is `ChatMessage`. */
export type MsgValue<K extends MsgCase> = Extract<Msg, { $case: K }>["value"];

export interface MessageCase {
  case: MsgCase;
  /** The oneof field number in `Packet` (2 = chat, 3 = id, …). */
  field: number;
  /** The message with every field at its default, as a decoder makes it from no bytes. */
  empty: Msg;
}

/**
 * The scan for oneof numbers stops after this many numbers in a row that are not in Packet: games
 * number their messages from 20 up, one after another, so the scan stays a few hundred decodes.
 */
export const MAX_FIELD_GAP = 256;

function readCases(): MessageCase[] {
  const cases: MessageCase[] = [];
  for (let field = 2, last = 1; field - last <= MAX_FIELD_GAP; field++) {
    // The field as an empty length-delimited message: tag (field << 3 | 2), length 0.
    const bytes: number[] = [];
    for (let tag = (field << 3) | 2; ; tag >>>= 7) {
      if (tag < 0x80) {
        bytes.push(tag, 0);
        break;
      }
      bytes.push((tag & 0x7f) | 0x80);
    }
    const msg = Packet.decode(Uint8Array.from(bytes)).msg;
    if (!msg) continue;
    cases.push({ case: msg.$case, field, empty: msg });
    last = field;
  }
  return cases;
}

export const MESSAGE_CASES: readonly MessageCase[] = readCases();

export const FIELD_OF = Object.fromEntries(MESSAGE_CASES.map((c) => [c.case, c.field])) as Record<MsgCase, number>;
export const CASE_OF_FIELD: ReadonlyMap<number, MsgCase> = new Map(MESSAGE_CASES.map((c) => [c.field, c.case]));

export function isMsgCase(name: string): name is MsgCase {
  return Object.hasOwn(FIELD_OF, name);
}
