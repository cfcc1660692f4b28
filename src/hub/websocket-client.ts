// One connection over Bun's ServerWebSocket: the series' read pump (decode, stamp the sender, hand to
// the state) and write pump (binary frames, dropped and counted when the socket is backed up).
import type { ServerWebSocket } from "bun";
import { errorText, LineBudget, LogThrottle, quote, withHeld, type Logger } from "../log.ts";
import { decodePacket, encodePacket, newDenyResponse, type Msg } from "../packets/index.ts";
import type { ChatGate } from "./chat.ts";
import type { ClientInterfacer } from "./client.ts";
import type { Hub } from "./hub.ts";
import { StrikeWindow, TokenBucket } from "../rate.ts";
import type { Account } from "../store/store.ts";
import type { ResumableSession } from "./session.ts";
import type { AnyClientState, StateMachine } from "./states.ts";
import type { Stats } from "./stats.ts";

export interface SocketData {
  ip: string;
  /** The address as a budget: an IPv4 address, an IPv6 address's /64 (addresses.ts). */
  budget: string;
  port: number;
  client?: WebSocketClient;
}

/** Close codes the server uses (RFC 6455 §7.4.1). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  serviceRestart: 1012,
  tryAgainLater: 1013,
} as const;

const LOG_INTERVAL_MS = 5000;
const STRIKE_WINDOW_MS = 10_000;
/** A client closed for being backed up gets this long to take its close frame before it is cut off. */
const CLOSE_GRACE_MS = 2000;
/** The close follows its announcement (the closing message) by this long: several frames of a game. */
export const ANNOUNCED_CLOSE_MS = 100;

/** What one client may do; see the options of the same names in src/config.ts. */
export interface ClientLimits {
  maxMalformed: number;
  rateLimit: number;
  rateBurst: number;
  floodLimit: number;
  backpressureLimit: number;
  slowReaderGrace: number;
}

/** What every client of one server shares. */
/** What a client asks of the session resumption (resume.ts implements it). */
export interface ClientResumption {
  /** A resume message (a token request, a resume request): handled, true; any other, false. */
  handle(client: WebSocketClient, msg: Msg): boolean;
  /** The client's session ends (a logout, its leave): its token stops working. */
  forget(client: WebSocketClient): void;
  /** The connection closed with `code`: whether the session is held for a resume (else the client leaves). */
  hold(client: WebSocketClient, code: number): boolean;
  /** A packet for a held session, kept to replay on its resume. */
  keep(client: WebSocketClient, bytes: Uint8Array): void;
}

export interface ClientContext {
  hub: Hub;
  states: StateMachine;
  log: Logger;
  limits: ClientLimits;
  stats: Stats;
  /** A message the client's state does not handle: its room's, if it is in one; false when nobody took it. */
  toRoom(client: ClientInterfacer, msg: Msg): boolean;
  /** The connection is gone and its state has been left: let go of its room and its account. */
  released(client: ClientInterfacer): void;
  resumption: ClientResumption;
  /** What a client may say to others (chat lines, a logout's reason). */
  chat: ChatGate;
  /** The framework's account messages (linking a password or a device): true when it was one. */
  accountMessage(client: WebSocketClient, msg: Msg): boolean;
}

/**
 * What a misbehaving client costs: counts, strike windows and log throttles, made on its first drop,
 * strike or backlog. Most clients never need one, and an idle connection should cost little.
 */
class Trouble {
  sendDrops = 0;
  rateDrops = 0;
  backedUpSince = -1;
  readonly malformedStrikes: StrikeWindow;
  readonly floodStrikes: StrikeWindow;
  readonly malformedLog = new LogThrottle(LOG_INTERVAL_MS);
  readonly spoofLog = new LogThrottle(LOG_INTERVAL_MS);
  readonly dropLog = new LogThrottle(LOG_INTERVAL_MS);
  readonly rateLog = new LogThrottle(LOG_INTERVAL_MS);

  constructor(limits: ClientLimits, now: number) {
    this.malformedStrikes = new StrikeWindow(limits.maxMalformed, STRIKE_WINDOW_MS, now);
    this.floodStrikes = new StrikeWindow(limits.floodLimit, STRIKE_WINDOW_MS, now);
  }
}

export class WebSocketClient implements ClientInterfacer {
  id = 0;
  open = true;
  stateName = "None";
  stateChanges = 0;
  private lineBudget: LineBudget | undefined;
  account: Account | undefined = undefined;
  private state: AnyClientState | undefined;
  private stateData: unknown;
  private bucket: TokenBucket | undefined;
  private trouble: Trouble | undefined;
  private closeRequestedAt = -1;
  /** Made when the client asks for a resume token (resume.ts). */
  private resumable: ResumableSession | undefined;

  constructor(
    private ws: ServerWebSocket<SocketData>,
    private readonly context: ClientContext,
  ) {}

  /**
   * A client restored from a restart, its session held (resume.ts) until a new connection takes it
   * over: in its state with its data, with no socket yet (a stand-in that is never written to,
   * because a held client is not open).
   */
  static detached(context: ClientContext, id: number, ip: string, state: { name: string; data: unknown }): WebSocketClient {
    const socket = { data: { ip, budget: ip, port: 0 }, subscriptions: [] } as unknown as ServerWebSocket<SocketData>;
    const client = new WebSocketClient(socket, context);
    client.id = id;
    client.open = false;
    client.state = context.states.next(undefined, state.name);
    client.stateName = state.name;
    client.stateData = state.data;
    client.stateChanges = 1;
    return client;
  }

  /** The state's name and data, for a restart (the data must survive JSON). */
  get stateSnapshot(): { name: string; data: unknown } {
    return { name: this.stateName, data: this.stateData };
  }

  get session(): ResumableSession | undefined {
    return this.resumable;
  }

  adoptSession(session: ResumableSession | undefined): void {
    if (session) for (const topic of this.ws.subscriptions) session.topics.add(topic);
    this.resumable = session;
  }

  /** In the first state, never left: where a new connection may resume a session. */
  get inFirstState(): boolean {
    return this.stateChanges === 0 && this.state !== undefined && this.account === undefined;
  }

  get ip(): string {
    return this.ws.data.ip;
  }

  get ipBudget(): string {
    return this.ws.data.budget ?? this.ws.data.ip;
  }

  /** Made when a line is written, not kept: log lines are rare, connections are many. */
  /** This client's logger: what it can make the server write is held to a budget of lines. */
  get log(): Logger {
    return this.context.log.child(`Client ${this.id}: `, (this.lineBudget ??= new LineBudget()));
  }

  /** Frames Bun dropped because this client's socket was backed up. */
  get sendDrops(): number {
    return this.trouble?.sendDrops ?? 0;
  }

  /** Messages dropped because this client sent over its rate limit. */
  get rateDrops(): number {
    return this.trouble?.rateDrops ?? 0;
  }

  /** Bytes queued in this client's socket, waiting for it to read. */
  get bufferedAmount(): number {
    return this.ws.getBufferedAmount();
  }

  initialize(id: number): void {
    this.id = id;
    this.setState(this.context.states.initial);
  }

  /** The read pump: one WebSocket frame from this client's socket. */
  receive(frame: string | Buffer): void {
    const now = performance.now();
    const { stats, limits } = this.context;
    stats.framesIn++;
    stats.bytesIn += frame.length;
    // A client being closed is not heard any more (its close is announced, or on its way).
    if (this.closeRequestedAt >= 0) return;
    if (!(this.bucket ??= new TokenBucket(limits.rateLimit, limits.rateBurst, now)).take(now)) {
      this.rejectOverRate(now);
      return;
    }
    if (typeof frame === "string") {
      this.log.warn("Received a text frame; only binary protobuf Packets are accepted");
      this.close("text frames are not supported: send binary protobuf Packets", CloseCode.unsupportedData);
      return;
    }
    let packet;
    try {
      packet = decodePacket(frame);
    } catch (err) {
      this.rejectMalformed(now, `a malformed frame of ${frame.length} bytes (${errorText(err)})`);
      return;
    }
    if (packet.msg === undefined) {
      this.rejectMalformed(now, "a packet that carries no message");
      return;
    }
    if (packet.senderId !== 0 && packet.senderId !== this.id) {
      stats.spoofedSenderIds++;
      const held = this.troubled(now).spoofLog.take(now);
      if (held >= 0) this.log.warn(withHeld(`Ignored sender_id ${packet.senderId} on a ${packet.msg.$case} packet; using ${this.id}`, held));
    }
    stats.messageIn(packet.msg.$case);
    this.processMessage(packet.msg);
  }

  private troubled(now: number): Trouble {
    return (this.trouble ??= new Trouble(this.context.limits, now));
  }

  private rejectOverRate(now: number): void {
    const trouble = this.troubled(now);
    trouble.rateDrops++;
    this.context.stats.rateDropped++;
    const { rateLimit } = this.context.limits;
    if (trouble.floodStrikes.add(now)) {
      this.close(`flooding: over ${rateLimit} messages/s for too long`, CloseCode.policyViolation);
      return;
    }
    const held = trouble.rateLog.take(now);
    if (held >= 0) this.log.warn(withHeld(`Dropped a message over the rate limit of ${rateLimit}/s (${trouble.rateDrops} so far)`, held));
  }

  private rejectMalformed(now: number, what: string): void {
    const trouble = this.troubled(now);
    this.context.stats.malformedDropped++;
    if (trouble.malformedStrikes.add(now)) {
      this.close(`too many malformed frames (over ${this.context.limits.maxMalformed} in 10 s)`, CloseCode.policyViolation);
      return;
    }
    const held = trouble.malformedLog.take(now);
    if (held >= 0) this.log.warn(withHeld(`Dropped ${what}`, held));
  }

  processMessage(msg: Msg): void {
    const state = this.state;
    if (!state) return;
    const name = this.stateName;
    try {
      if (msg.$case.startsWith("resume") && this.context.resumption.handle(this, msg)) return;
      if (this.context.accountMessage(this, msg)) return;
      if (msg.$case === "chat") {
        const said = this.context.chat.check(this, msg.value.msg, performance.now());
        if ("refused" in said) {
          this.log.info(`Refused a chat line of ${msg.value.msg.length} characters: ${said.refused}`);
          this.socketSendAs(newDenyResponse(said.refused), 0);
          return;
        }
        msg = { $case: "chat", value: { msg: said.text } };
      } else if (msg.$case === "disconnect") {
        msg = { $case: "disconnect", value: { reason: this.context.chat.reason(msg.value.reason) } };
      }
      const handler = state.handleMessage[msg.$case] as ((client: this, value: unknown, data: unknown) => void | Promise<void>) | undefined;
      if (handler) {
        const pending = handler(this, msg.value, this.stateData);
        if (pending) pending.catch((err) => this.reportHandlerError(name, msg, err));
      } else if (!this.context.toRoom(this, msg)) {
        this.log.debug(`Ignored a ${msg.$case} packet in state ${name}`);
      }
    } catch (err) {
      this.reportHandlerError(name, msg, err);
    }
  }

  setState(name: string, arg?: unknown): void {
    const next = this.context.states.next(this.state ? this.stateName : undefined, name);
    this.log.info(`Switching from state ${this.stateName} to ${name}`);
    this.leaveState();
    this.state = next;
    this.stateName = name;
    this.stateData = next.onEnter?.(this, arg);
  }

  private leaveState(): void {
    const state = this.state;
    if (!state) return;
    this.state = undefined;
    this.stateChanges++;
    const data = this.stateData;
    this.stateData = undefined;
    state.onExit?.(this, data);
  }

  socketSend(msg: Msg): void {
    this.socketSendAs(msg, this.id);
  }

  socketSendAs(msg: Msg, senderId: number): void {
    if (!this.open && !this.resumable?.held) return;
    const bytes = encodePacket(senderId, msg);
    this.context.stats.packetOut(msg.$case, bytes.length);
    this.sendBytes(bytes);
  }

  sendBytes(bytes: Uint8Array): void {
    if (!this.open) {
      if (this.resumable?.held) this.context.resumption.keep(this, bytes);
      return;
    }
    const { stats } = this.context;
    if (this.ws.send(bytes) === 0) {
      const trouble = this.troubled(performance.now());
      trouble.sendDrops++;
      stats.sendDropped++;
      const held = trouble.dropLog.take();
      if (held >= 0) this.log.warn(withHeld(`Dropped an outgoing packet: the socket is backed up (${trouble.sendDrops} so far)`, held));
    }
  }

  broadcast(msg: Msg, topic: string): void {
    this.context.hub.broadcast(this.id, msg, topic);
  }

  subscribe(topic: string): void {
    this.resumable?.topics.add(topic);
    if (this.open) this.ws.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    this.resumable?.topics.delete(topic);
    if (this.open) this.ws.unsubscribe(topic);
  }

  publish(topic: string, bytes: Uint8Array): boolean {
    if (!this.open) return false;
    this.ws.publish(topic, bytes);
    return true;
  }

  close(reason: string, code: number = CloseCode.normal): void {
    if (!this.open || this.closeRequestedAt >= 0) return;
    this.closeRequestedAt = performance.now();
    this.log.info(`Closing client connection because: ${reason}`);
    if (this.resumable) {
      // A client with a token (the Godot kit) is told the code first: its WebSocket may not take the
      // code itself. Godot's also drops what arrives in the same read as a close frame, so the close
      // follows a moment later.
      this.socketSend({ $case: "closing", value: { code, reason } });
      const ws = this.ws;
      setTimeout(() => ws.close(code, reason), ANNOUNCED_CLOSE_MS);
      return;
    }
    this.ws.close(code, reason);
  }

  /**
   * Called about once a second for every client: a client that has stayed backed up (half its
   * backpressure limit queued) for longer than the grace period is closed with 1013, and one that
   * does not take its close frame either is cut off.
   */
  checkBackpressure(now: number): void {
    if (!this.open) return;
    if (this.closeRequestedAt >= 0) {
      if (now - this.closeRequestedAt > CLOSE_GRACE_MS) {
        this.log.info("Cutting off a connection that did not finish closing");
        this.ws.terminate();
      }
      return;
    }
    const { backpressureLimit, slowReaderGrace } = this.context.limits;
    if (this.bufferedAmount < backpressureLimit / 2) {
      if (this.trouble) this.trouble.backedUpSince = -1;
      return;
    }
    const trouble = this.troubled(now);
    if (trouble.backedUpSince < 0) {
      trouble.backedUpSince = now;
      this.log.warn(`Backed up: ${this.bufferedAmount} bytes queued; a packet past ${backpressureLimit} closes the connection`);
    } else if (now - trouble.backedUpSince > slowReaderGrace * 1000) {
      this.close(`slow reader: backed up for over ${slowReaderGrace} s`, CloseCode.tryAgainLater);
    }
  }

  /**
   * Bun's close handler: the connection is gone, whichever side closed it. Runs once per socket. A
   * session that may be resumed is held (resume.ts); any other leaves now.
   */
  closed(ws: ServerWebSocket<SocketData>, code: number, reason: string): void {
    if (!this.open || ws !== this.ws) return;
    this.open = false;
    this.context.stats.closed(code);
    this.log.info(`Connection closed (${code}${reason ? ` ${quote(reason)}` : ""})`);
    if (!this.context.resumption.hold(this, code)) this.leave();
  }

  forgetSession(): void {
    this.context.resumption.forget(this);
  }

  /** The client is gone for good: it leaves its state, its room and its account, and the hub. */
  leave(): void {
    const name = this.stateName;
    try {
      this.leaveState();
    } catch (err) {
      this.log.error(`Leaving state ${name} failed: ${errorText(err)}`);
    }
    this.context.resumption.forget(this);
    this.context.released(this);
    this.context.hub.unregister(this.id);
  }

  /**
   * A held session resumed on `fresh`'s socket: this client takes the socket (and its topics), and
   * `fresh`, which has done nothing but enter the first state, goes away without a word.
   */
  takeOver(fresh: WebSocketClient): void {
    const ws = fresh.ws;
    fresh.open = false;
    fresh.leaveState();
    fresh.context.hub.unregister(fresh.id);
    for (const topic of ws.subscriptions) ws.unsubscribe(topic);
    ws.data.client = this;
    this.ws = ws;
    this.open = true;
    this.closeRequestedAt = -1;
    this.trouble = undefined;
    for (const topic of this.resumable?.topics ?? []) ws.subscribe(topic);
  }

  private reportHandlerError(stateName: string, msg: Msg, err: unknown): void {
    this.context.stats.handlerErrors++;
    this.log.error(`State ${stateName} failed on a ${msg.$case} packet, which was dropped: ${errorText(err)}`);
  }
}
