// Session resume (messages 100-103, opt-in by the client). A logged-in client asks for a token; when
// its connection then ends in any way but a logout or a close with 1000, its session is held for the
// grace period: it stays in its state and its room, nobody hears of it, and what is addressed to it
// (direct sends, and broadcasts on its topics but those a room marks as superseded by the next tick)
// is kept, in order, up to a bound. A new connection whose first message presents the token takes
// the session over: its id, its state, its room, then the kept packets, exactly once.
import { randomBytes } from "node:crypto";
import { quote } from "../log.ts";
import { encodePacket, newDenyResponse, type Msg } from "../packets/index.ts";
import { TokenBucket } from "./rate.ts";
import type { Hub } from "./hub.ts";
import type { WebSocketClient } from "./websocket-client.ts";

/** The answers a client can get, worded like the series' reasons. */
export const ResumeReason = {
  unknownToken: "Unknown or used session token",
  expired: "Session expired - please log in again",
  overflowed: "Too much was missed while away - please log in again",
  off: "Session resume is off on this server",
  notFirst: "Session resume must be the first message of a new connection",
  stillConnected: "That session is still connected",
  tooMany: "Too many resume attempts from your address - please try again later",
  loginFirst: "Log in first to get a session token",
} as const;

/** Failed attempts one address may make: a burst, then one every 30 s (as a login throttle would). */
const FAILED_BURST = 20;
const FAILED_PER_SECOND = 1 / 30;
/** Bytes of randomness in a token: 192 bits. */
const TOKEN_BYTES = 24;

export interface ResumeLimits {
  resumeGrace: number;
  resumeBuffer: number;
}

/** What a held session keeps, and until when it is held. */
export class HeldSession {
  readonly kept: Uint8Array[] = [];
  bytes = 0;
  overflowed = false;

  constructor(readonly until: number) {}
}

/** The resumable part of a client: made when it asks for a token, so that a client that never asks carries none. */
export class ResumableSession {
  /** The topics the client's socket is subscribed to, to subscribe a new socket to after a resume. */
  readonly topics = new Set<string>();
  held: HeldSession | undefined;

  constructor(public token: string) {}
}

export interface ResumeHooks {
  /** The client's connection is gone but its session held: its room hears of it being away. */
  away(client: WebSocketClient): void;
  /** The client is back: its room brings it up to date (after the kept packets). */
  back(client: WebSocketClient): void;
}

export class Resumption {
  private readonly tokens = new Map<string, WebSocketClient>();
  private readonly held = new Set<WebSocketClient>();
  private readonly failures = new Map<string, TokenBucket>();
  /** Set by the composition root. */
  hooks: ResumeHooks = { away: () => undefined, back: () => undefined };

  constructor(
    private readonly hub: Hub<WebSocketClient>,
    private readonly limits: ResumeLimits,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get enabled(): boolean {
    return this.limits.resumeGrace > 0;
  }

  /** Sessions held now. */
  get heldCount(): number {
    return this.held.size;
  }

  /** A framework message (100-119) from a client: true when it was one of ours. */
  handle(client: WebSocketClient, msg: Msg): boolean {
    if (msg.$case === "resumeTokenRequest") this.issue(client);
    else if (msg.$case === "resumeRequest") this.take(client, msg.value.token);
    else return false;
    return true;
  }

  /** A new token for the client's session (the one it had, if any, stops working). */
  private issue(client: WebSocketClient): void {
    if (!this.enabled) return client.socketSend(newDenyResponse(ResumeReason.off));
    if (client.account === undefined) return client.socketSend(newDenyResponse(ResumeReason.loginFirst));
    const token = randomBytes(TOKEN_BYTES).toString("base64url");
    const session = client.session;
    if (session) {
      this.tokens.delete(session.token);
      session.token = token;
    } else client.adoptSession(new ResumableSession(token));
    this.tokens.set(token, client);
    client.socketSend({ $case: "resumeToken", value: { token, graceSeconds: this.limits.resumeGrace } });
  }

  /** The client's session ends (a logout, its leave): its token stops working. */
  forget(client: WebSocketClient): void {
    const session = client.session;
    if (!session) return;
    this.tokens.delete(session.token);
    this.held.delete(client);
    client.adoptSession(undefined);
    if (this.held.size === 0) this.hub.tap(undefined);
  }

  /**
   * The client's connection closed with `code`: true when its session is held (it keeps its state,
   * room and id), false when it leaves as always (no token, logged out, 1000, or resume off).
   */
  hold(client: WebSocketClient, code: number): boolean {
    const session = client.session;
    if (!session || !this.enabled || client.account === undefined || code === 1000) return false;
    session.held = new HeldSession(this.now() + this.limits.resumeGrace * 1000);
    this.held.add(client);
    this.hub.tap((topic, senderId, excludeSender, bytes, superseded) => this.keepBroadcast(topic, senderId, excludeSender, bytes, superseded));
    client.log.info(`Session held for ${this.limits.resumeGrace} s (connection closed with ${code})`);
    this.hooks.away(client);
    return true;
  }

  /** A client restored from a restart: its session held for `msLeft`, with what was kept for it. */
  restoreHeld(client: WebSocketClient, token: string, topics: string[], kept: Uint8Array[], msLeft: number): void {
    const session = new ResumableSession(token);
    for (const topic of topics) session.topics.add(topic);
    session.held = new HeldSession(this.now() + msLeft);
    for (const bytes of kept) {
      session.held.kept.push(bytes);
      session.held.bytes += bytes.length;
    }
    client.adoptSession(session);
    this.tokens.set(token, client);
    this.held.add(client);
    this.hub.tap((topic, senderId, excludeSender, bytes, superseded) => this.keepBroadcast(topic, senderId, excludeSender, bytes, superseded));
  }

  /** The clients with a token, live or held, and how long each may still be held (for a restart). */
  *sessions(): IterableIterator<{ client: WebSocketClient; token: string; msLeft: number }> {
    const now = this.now();
    for (const [token, client] of this.tokens) {
      const held = client.session?.held;
      if (held?.overflowed) continue;
      yield { client, token, msLeft: held ? Math.max(0, held.until - now) : this.limits.resumeGrace * 1000 };
    }
  }

  /** A login of the account of a held session (its player came back without its token): the held session ends first. */
  endHeldOf(userId: number): void {
    for (const client of this.held) {
      if ((client.account as { userId?: number } | undefined)?.userId === userId) this.end(client, "its account logged in again");
    }
  }

  /** A packet addressed to a held client: kept, or the session ends when the buffer is full. */
  keep(client: WebSocketClient, bytes: Uint8Array): void {
    const held = client.session?.held;
    if (!held || held.overflowed) return;
    if (held.bytes + bytes.length > this.limits.resumeBuffer) {
      held.overflowed = true;
      // Not from inside whatever is sending: the room may be in the middle of its tick.
      setImmediate(() => this.end(client, `more than ${this.limits.resumeBuffer} bytes were sent to it while away`));
      return;
    }
    held.kept.push(bytes);
    held.bytes += bytes.length;
  }

  /** Once a second: held sessions past their grace end as a disconnect does. Prunes the failure budgets. */
  sweep(): void {
    const now = this.now();
    for (const client of [...this.held]) if (client.session!.held!.until <= now) this.end(client, "its grace period ran out");
    for (const [ip, bucket] of this.failures) if (bucket.full(now)) this.failures.delete(ip);
  }


  private keepBroadcast(topic: string, senderId: number, excludeSender: boolean, bytes: Uint8Array, superseded: boolean): void {
    if (superseded) return;
    for (const client of this.held) {
      if (excludeSender && client.id === senderId) continue;
      if (client.session!.topics.has(topic)) this.keep(client, bytes);
    }
  }

  /** The held session ends: the client leaves its state and room as a closed connection does. */
  private end(client: WebSocketClient, why: string): void {
    if (!this.held.has(client)) return;
    client.log.info(`Held session ended: ${why}`);
    this.forget(client);
    client.leave();
  }

  /** `fresh` (a new connection, in the first state) presents a token: it takes the session over, or is told why not. */
  private take(fresh: WebSocketClient, token: string): void {
    const now = this.now();
    const refuse = (reason: string, failed = true) => {
      fresh.socketSend({ $case: "resumeResponse", value: { ok: false, id: 0, reason, replayed: 0 } });
      if (failed) this.failed(fresh, now, reason);
    };
    if (!this.enabled) return refuse(ResumeReason.off, false);
    if (!this.withinBudget(fresh, now)) return refuse(ResumeReason.tooMany, false);
    if (!fresh.inFirstState) return refuse(ResumeReason.notFirst);
    const client = this.tokens.get(token);
    const held = client?.session?.held;
    if (!client) return refuse(ResumeReason.unknownToken);
    if (!held) return refuse(ResumeReason.stillConnected);
    if (held.overflowed) return refuse(ResumeReason.overflowed);
    if (held.until <= now) {
      this.end(client, "its grace period ran out");
      return refuse(ResumeReason.expired);
    }
    this.held.delete(client);
    if (this.held.size === 0) this.hub.tap(undefined);
    client.session!.held = undefined;
    this.tokens.delete(token);
    const oldId = client.id;
    fresh.log.info(`Resumed the session of client ${oldId}, ${held.kept.length} packet(s) kept while away`);
    client.takeOver(fresh);
    client.sendBytes(encodePacket(oldId, { $case: "resumeResponse", value: { ok: true, id: oldId, reason: "", replayed: held.kept.length } }));
    for (const bytes of held.kept) client.sendBytes(bytes);
    this.hooks.back(client);
    this.issue(client);
  }

  private withinBudget(client: WebSocketClient, now: number): boolean {
    const bucket = this.failures.get(client.ip);
    if (!bucket || bucket.peek(now)) return true;
    client.log.warn(`Resume refused: too many failed attempts from ${client.ip}`);
    return false;
  }

  private failed(client: WebSocketClient, now: number, reason: string): void {
    let bucket = this.failures.get(client.ip);
    if (!bucket) this.failures.set(client.ip, (bucket = new TokenBucket(FAILED_PER_SECOND, FAILED_BURST, now)));
    bucket.take(now);
    client.log.info(`Resume refused (${quote(reason)}) from ${client.ip}`);
  }
}
