// Session resume (messages 100-103, opt-in by the client). A logged-in client asks for a token; when
// its connection then ends in any way but a logout or a close with 1000, its session is held for the
// grace period: it stays in its state and its room, nobody hears of it, and what is addressed to it
// (direct sends, and broadcasts on its topics but those a room marks as superseded by the next tick)
// is kept, in order, up to a bound. A new connection whose first message presents the token takes
// the session over: its id, its state, its room, then the kept packets, exactly once. In a cluster, a
// token held on another node is sought through SessionsElsewhere (server/resume-link.ts moves it here).
import { createHash, randomBytes } from "node:crypto";
import { quote } from "../log.ts";
import { encodePacket, newDenyResponse, type Msg } from "../packets/index.ts";
import { TokenBucket } from "../rate.ts";
import type { Account } from "../store/store.ts";
import type { Hub, TopicTap } from "./hub.ts";
import type { ClientResumption, WebSocketClient } from "./websocket-client.ts";
import { HeldSession, ResumableSession } from "./session.ts";

/** The answers a client can get, worded like the series' reasons. */
export const ResumeReason = {
  unknownToken: "Unknown or used session token",
  expired: "Session expired - please log in again",
  overflowed: "Too much was missed while away - please log in again",
  off: "Session resume is off on this server",
  notFirst: "Session resume must be the first message of a new connection",
  stillConnected: "That session is still connected",
  cannotMove: "That session cannot move to this server - please log in again",
  tooMany: "Too many resume attempts from your address - please try again later",
  loginFirst: "Log in first to get a session token",
  reclaimed: "Your account logged in with its password: this session, continued through its token, is over",
} as const;

/** The close code of a reclaimed session: a policy close (1008), after which a client does not reconnect by itself. */
const RECLAIMED_CLOSE = 1008;

/** Failed attempts one address may make: a burst, then one every 30 s (as a login throttle would). */
const FAILED_BURST = 20;
const FAILED_PER_SECOND = 1 / 30;
/** Bytes of randomness in a token: 192 bits. */
const TOKEN_BYTES = 24;

export interface ResumeLimits {
  resumeGrace: number;
  resumeBuffer: number;
}

/** A held session as data (JSON): what moves to another node, or survives a restart. */
export interface SessionData {
  /** The token's key (tokenKey), never the token. */
  token: string;
  id: number;
  ip: string;
  account: Account;
  state: { name: string; data: unknown };
  topics: string[];
  /** The room the client is in (its id and type), what it brought when it joined, and whether it takes world frames. */
  room: { id: string; type?: string; join: unknown; frames?: boolean } | undefined;
  /** How long it may still be held. */
  msLeft: number;
}

/** Sessions held on other nodes of a cluster (resume-link.ts); absent on a server alone. */
export interface SessionsElsewhere {
  /** The token's session is held here (any node may look it up), or no longer. */
  registered(token: string): void;
  dropped(token: string): void;
  /**
   * `fresh` (a new connection, in the first state) presents a token no session here holds: the
   * cluster looks for it, and either hands it here (`holdArriving`, then `completeArrival`) or
   * answers `fresh` with `refuse`.
   */
  seek(fresh: WebSocketClient, token: string): void;
}

/** A move between nodes that has not finished within this long is given up (the sweep, at twice this, ends one left over). */
export const MOVE_TIMEOUT_MS = 5000;

/**
 * What the server keeps of a token, in memory, in the restart file and in Redis: its SHA-256. Reading
 * any of them gives nobody a token to present (192 random bits: no need for a slow hash).
 */
export function tokenKey(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

export interface ResumeHooks {
  /** The client's connection is gone but its session held: its room hears of it being away. */
  away(client: WebSocketClient): void;
  /** The client is back: its room brings it up to date (after the kept packets). */
  back(client: WebSocketClient): void;
}

export class Resumption implements ClientResumption {
  private readonly tokens = new Map<string, WebSocketClient>();
  private readonly held = new Set<WebSocketClient>();
  private readonly failures = new Map<string, TokenBucket>();
  /** Shown every broadcast while any session is held. */
  private readonly tapper: TopicTap = (topic, senderId, excludeSender, bytes, superseded, local) => this.keepBroadcast(topic, senderId, excludeSender, bytes, superseded, local);

  constructor(
    private readonly hub: Hub<WebSocketClient>,
    private readonly limits: ResumeLimits,
    /** What the rooms do when a member's session is held and when it is back. */
    private readonly hooks: ResumeHooks,
    private readonly now: () => number = () => performance.now(),
    /** In a cluster: sessions held on other nodes. */
    private readonly elsewhere?: SessionsElsewhere,
  ) {}

  get enabled(): boolean {
    return this.limits.resumeGrace > 0;
  }

  /** Whether any client holds a token (a live or a held session that may resume). */
  get anyResumable(): boolean {
    return this.tokens.size > 0;
  }

  /** Sessions held now. */
  get heldCount(): number {
    return this.held.size;
  }

  /** A framework message (100-119) from a client: true when it was one of ours. */
  handle(client: WebSocketClient, msg: Msg): boolean {
    if (msg.$case === "resumeTokenRequest") this.issue(client);
    else if (msg.$case === "resumeRequest") this.take(client, tokenKey(msg.value.token));
    else return false;
    return true;
  }

  /** A new token for the client's session (the one it had, if any, stops working). */
  private issue(client: WebSocketClient): void {
    if (!this.enabled) return client.socketSend(newDenyResponse(ResumeReason.off));
    if (client.account === undefined) return client.socketSend(newDenyResponse(ResumeReason.loginFirst));
    const token = randomBytes(TOKEN_BYTES).toString("base64url");
    const key = tokenKey(token);
    const session = client.session;
    if (session) {
      this.tokens.delete(session.token);
      this.elsewhere?.dropped(session.token);
      session.token = key;
    } else client.adoptSession(new ResumableSession(key));
    this.tokens.set(key, client);
    this.elsewhere?.registered(key);
    client.socketSend({ $case: "resumeToken", value: { token, graceSeconds: this.limits.resumeGrace } });
  }

  /** The client's session ends (a logout, its leave): its token stops working. */
  forget(client: WebSocketClient): void {
    const session = client.session;
    if (!session) return;
    this.tokens.delete(session.token);
    this.elsewhere?.dropped(session.token);
    this.unhold(client);
    client.adoptSession(undefined);
  }

  /** The client is no longer held here; with none left, broadcasts are no longer looked at. */
  private unhold(client: WebSocketClient): void {
    this.held.delete(client);
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
    this.hub.tap(this.tapper);
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
    this.hub.tap(this.tapper);
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
  /**
   * A password login of the account ends a session of it that was continued through a token (whoever
   * presented the token holds the account only until its owner logs in): its connection is closed
   * with ResumeReason.reclaimed (1008) and it leaves at once. False when there was none.
   */
  endResumedOf(userId: number): boolean {
    for (const client of this.tokens.values()) {
      if (!client.session?.viaToken || client.session.held || client.account?.userId !== userId) continue;
      client.log.warn(`Session continued through its token ended: its account logged in with the password`);
      this.forget(client);
      client.close(ResumeReason.reclaimed, RECLAIMED_CLOSE);
      client.leave();
      return true;
    }
    return false;
  }

  /**
   * An operator put the account out (a kick, a ban): its connections on this node close with `reason`
   * and `code`, its held sessions end, and none of its tokens resumes. Returns how many there were.
   */
  putOut(userId: number, reason: string, code: number): number {
    const ofAccount = (client: WebSocketClient) => client.account?.userId === userId;
    let count = 0;
    for (const client of [...this.held]) {
      if (!ofAccount(client)) continue;
      this.end(client, "an operator put its account out");
      count++;
    }
    for (const client of [...this.hub.clients.values()]) {
      if (!client.open || !ofAccount(client)) continue;
      client.log.info(`Put out by an operator: ${reason}`);
      this.forget(client);
      client.close(reason, code);
      client.leave();
      count++;
    }
    return count;
  }

  endHeldOf(userId: number): void {
    for (const client of this.held) {
      if (client.account?.userId === userId) this.end(client, "its account logged in again");
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
    for (const client of [...this.held]) {
      const held = client.session!.held!;
      if (held.transit ? now - held.transit.since > 2 * MOVE_TIMEOUT_MS : held.until <= now) this.end(client, held.transit ? "its move between nodes did not finish" : "its grace period ran out");
    }
    for (const [ip, bucket] of this.failures) if (bucket.full(now)) this.failures.delete(ip);
  }


  private keepBroadcast(topic: string, senderId: number, excludeSender: boolean, bytes: Uint8Array, superseded: boolean, local: boolean): void {
    if (superseded) return;
    for (const client of this.held) {
      if (excludeSender && client.id === senderId) continue;
      // What this node says after sending a moving session's cut reaches the new node after the cut.
      if (local && client.session!.held!.transit?.leaving) continue;
      if (client.session!.topics.has(topic)) this.keep(client, bytes);
    }
  }

  /** The held session ends: the client leaves its state and room as a closed connection does. */
  end(client: WebSocketClient, why: string): void {
    if (!this.held.has(client)) return;
    client.log.info(`Held session ended: ${why}`);
    this.forget(client);
    client.leave();
  }

  /** `fresh` (a new connection, in the first state) presents a token (as its key): it takes the session over, or is told why not. */
  private take(fresh: WebSocketClient, token: string): void {
    const now = this.now();
    const refuse = (reason: string, failed = true) => this.refuse(fresh, reason, failed);
    if (!this.enabled) return refuse(ResumeReason.off, false);
    if (!this.withinBudget(fresh, now)) return refuse(ResumeReason.tooMany, false);
    if (!fresh.inFirstState) return refuse(ResumeReason.notFirst);
    const client = this.tokens.get(token);
    const held = client?.session?.held;
    if (!client && this.elsewhere) return this.elsewhere.seek(fresh, token);
    if (!client) return refuse(ResumeReason.unknownToken);
    if (!held) return refuse(ResumeReason.stillConnected);
    if (held.overflowed) return refuse(ResumeReason.overflowed);
    if (held.until <= now) {
      this.end(client, "its grace period ran out");
      return refuse(ResumeReason.expired);
    }
    if (held.transit) return refuse(ResumeReason.unknownToken);
    this.tokens.delete(token);
    this.elsewhere?.dropped(token);
    this.complete(client, fresh, held.kept);
  }

  /** The held client takes the fresh connection over: the response, the kept packets, the room's catch-up, a new token. */
  private complete(client: WebSocketClient, fresh: WebSocketClient, kept: Uint8Array[]): void {
    this.unhold(client);
    client.session!.held = undefined;
    const oldId = client.id;
    fresh.log.info(`Resumed the session of client ${oldId}, ${kept.length} packet(s) kept while away`);
    client.takeOver(fresh);
    client.session!.viaToken = true;
    client.sendBytes(encodePacket(oldId, { $case: "resumeResponse", value: { ok: true, id: oldId, reason: "", replayed: kept.length } }));
    for (const bytes of kept) client.sendBytes(bytes);
    this.hooks.back(client);
    this.issue(client);
  }

  /** `fresh`'s resume is refused with `reason` (counted against its address unless `failed` is false). */
  refuse(fresh: WebSocketClient, reason: string, failed = true): void {
    fresh.socketSend({ $case: "resumeResponse", value: { ok: false, id: 0, reason, replayed: 0 } });
    if (failed) this.failed(fresh, this.now(), reason);
  }

  // What the cluster's moves between nodes use (resume-link.ts).

  /**
   * Another node's new connection asks for the token's session: the client, leaving from now on (its
   * token no longer works here), and how long it may still be held; or why it may not move (an
   * expired session, or one `movable` refuses, ends here).
   */
  leave(token: string, movable: (client: WebSocketClient) => boolean): { client: WebSocketClient; msLeft: number } | { reason: string } {
    const client = this.tokens.get(token);
    const held = client?.session?.held;
    const now = this.now();
    if (!client) return { reason: ResumeReason.unknownToken };
    if (!held) return { reason: ResumeReason.stillConnected };
    if (held.overflowed) return { reason: ResumeReason.overflowed };
    if (held.transit) return { reason: ResumeReason.unknownToken };
    if (held.until <= now) {
      this.end(client, "its grace period ran out");
      return { reason: ResumeReason.expired };
    }
    if (!movable(client)) {
      this.end(client, "it cannot move to another node");
      return { reason: ResumeReason.cannotMove };
    }
    held.transit = { leaving: true, since: now };
    this.tokens.delete(token);
    this.elsewhere?.dropped(token);
    return { client, msLeft: Math.max(0, held.until - now) };
  }

  /** A leaving client at its cut: what was kept for it until then; it is no longer held here (undefined: it was not leaving). */
  letGo(client: WebSocketClient): Uint8Array[] | undefined {
    const held = client.session?.held;
    if (!held?.transit?.leaving) return undefined;
    this.unhold(client);
    client.adoptSession(undefined);
    return held.kept;
  }

  /** A client arriving from another node at its cut: held here, in transit, until `completeArrival`. */
  holdArriving(client: WebSocketClient, token: string, topics: string[], msLeft: number): void {
    const session = new ResumableSession(token);
    for (const topic of topics) session.topics.add(topic);
    session.held = new HeldSession(this.now() + msLeft);
    session.held.transit = { leaving: false, since: this.now() };
    client.adoptSession(session);
    this.held.add(client);
    this.hub.tap(this.tapper);
  }

  /** The old node's kept packets are here: the arrived client takes `fresh` over, with those first (or ends, when `fresh` is gone). */
  completeArrival(client: WebSocketClient, fresh: WebSocketClient, kept: Uint8Array[]): void {
    const held = client.session?.held;
    if (!held || !this.held.has(client)) return;
    if (!fresh.open || held.overflowed) return this.end(client, "the new connection it moved for is gone");
    this.complete(client, fresh, [...kept, ...held.kept]);
  }

  private withinBudget(client: WebSocketClient, now: number): boolean {
    const bucket = this.failures.get(client.ipBudget);
    if (!bucket || bucket.peek(now)) return true;
    client.log.warn(`Resume refused: too many failed attempts from ${client.ip}`);
    return false;
  }

  private failed(client: WebSocketClient, now: number, reason: string): void {
    let bucket = this.failures.get(client.ipBudget);
    if (!bucket) this.failures.set(client.ipBudget, (bucket = new TokenBucket(FAILED_PER_SECOND, FAILED_BURST, now)));
    bucket.take(now);
    client.log.info(`Resume refused (${quote(reason)}) from ${client.ip}`);
  }
}
