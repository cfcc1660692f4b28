// What a client may say to others: a chat line (in the lobby, in the world, in any game) is held to a
// length and a rate of its own, apart from the message rate, and loses control and invisible
// characters, as a username may not hold them (a newline would forge another line on every other
// screen, a right-to-left override reverse the ones after it). A logout's reason is cleaned the same
// way and cut to the same length. Refusals are deny_responses with these reasons.
import type { ClientInterfacer } from "./client.ts";
import { TokenBucket } from "../rate.ts";

/** A chat burst is this many seconds of the rate. */
const BURST_SECONDS = 5;

/** Control, format (bidi overrides, zero-width), separator characters and lone surrogates. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

export const ChatReason = {
  tooLong: (max: number) => `Chat refused: longer than ${max} characters`,
  tooFast: (perSecond: number) => `Chat refused: too many lines (at most ${perSecond} a second)`,
  muted: (mute: { reason: string; until: number }) => `Chat refused: muted ${mute.until === 0 ? "for good" : `until ${new Date(mute.until).toISOString()}`}: ${mute.reason}`,
} as const;

export interface ChatLimits {
  maxChatLength: number;
  chatRate: number;
}

/** The text without control or invisible characters. */
export function cleanText(text: string): string {
  return text.replace(INVISIBLE, "");
}

/** Characters (code points), counting no further than `max` + 1. */
function lengthOver(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let n = 0;
  for (const _ of text) if (++n > max) return true;
  return false;
}

export class ChatGate {
  private readonly buckets = new WeakMap<ClientInterfacer, TokenBucket>();

  constructor(private readonly limits: ChatLimits) {}

  /** A chat line as it may go out (cleaned), or the reason it may not. */
  check(client: ClientInterfacer, text: string, now: number): { text: string } | { refused: string } {
    // An operator's mute on the account (src/accounts/moderation.ts), while it holds.
    const mute = client.account?.mute;
    if (mute && (mute.until === 0 || mute.until > Date.now())) return { refused: ChatReason.muted(mute) };
    if (lengthOver(text, this.limits.maxChatLength)) return { refused: ChatReason.tooLong(this.limits.maxChatLength) };
    let bucket = this.buckets.get(client);
    if (!bucket) this.buckets.set(client, (bucket = new TokenBucket(this.limits.chatRate, this.limits.chatRate * BURST_SECONDS, now)));
    if (!bucket.take(now)) return { refused: ChatReason.tooFast(this.limits.chatRate) };
    return { text: cleanText(text) };
  }

  /** A logout's reason as the others may read it: cleaned, and no longer than a chat line. */
  reason(text: string): string {
    const clean = cleanText(text);
    return lengthOver(clean, this.limits.maxChatLength) ? [...clean].slice(0, this.limits.maxChatLength).join("") : clean;
  }
}
