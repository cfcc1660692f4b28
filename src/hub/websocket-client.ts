// One connection over Bun's ServerWebSocket: the seed's read pump (decode, stamp the sender, hand to
// the state) and write pump (binary frames, dropped and counted when the socket is backed up).
import type { ServerWebSocket } from "bun";
import { errorText, LogThrottle, withHeld, type Logger } from "../log.ts";
import { decodePacket, encodePacket, type Msg } from "../packets/index.ts";
import type { ClientInterfacer, ClientState } from "./client.ts";
import type { Hub } from "./hub.ts";
import { StrikeWindow, TokenBucket } from "./rate.ts";
import type { Stats } from "./stats.ts";

export interface SocketData {
  ip: string;
  remoteAddress: string;
  client?: WebSocketClient;
}

/** Close codes the server uses (RFC 6455 §7.4.1). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  tryAgainLater: 1013,
} as const;

const LOG_INTERVAL_MS = 5000;
const STRIKE_WINDOW_MS = 10_000;
/** A client closed for being backed up gets this long to take its close frame before it is cut off. */
const CLOSE_GRACE_MS = 2000;

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
export interface ClientContext {
  hub: Hub;
  firstState: () => ClientState;
  log: Logger;
  limits: ClientLimits;
  stats: Stats;
}

export class WebSocketClient implements ClientInterfacer {
  id = 0;
  open = true;
  /** Frames Bun dropped because this client's socket was backed up. */
  sendDrops = 0;
  /** Messages dropped because this client sent over its rate limit. */
  rateDrops = 0;
  log: Logger;
  private state: ClientState | undefined;
  private readonly hub: Hub;
  private readonly stats: Stats;
  private readonly limits: ClientLimits;
  private readonly bucket: TokenBucket;
  private malformedStrikes?: StrikeWindow;
  private floodStrikes?: StrikeWindow;
  // Made on first use: most clients never need them, and an idle connection should cost little.
  private malformedLog?: LogThrottle;
  private spoofLog?: LogThrottle;
  private dropLog?: LogThrottle;
  private rateLog?: LogThrottle;
  private backedUpSince = -1;
  private closeRequestedAt = -1;

  constructor(
    private readonly ws: ServerWebSocket<SocketData>,
    private readonly context: ClientContext,
  ) {
    const now = performance.now();
    this.log = context.log;
    this.hub = context.hub;
    this.stats = context.stats;
    this.limits = context.limits;
    this.bucket = new TokenBucket(this.limits.rateLimit, this.limits.rateBurst, now);
  }

  get ip(): string {
    return this.ws.data.ip;
  }

  /** Bytes queued in this client's socket, waiting for it to read. */
  get bufferedAmount(): number {
    return this.ws.getBufferedAmount();
  }

  initialize(id: number): void {
    this.id = id;
    this.log = this.log.child(`Client ${id}: `);
    this.setState(this.context.firstState());
  }

  /** The read pump: one WebSocket frame from this client's socket. */
  receive(frame: string | Buffer): void {
    const now = performance.now();
    this.stats.framesIn++;
    this.stats.bytesIn += frame.length;
    if (!this.bucket.take(now)) {
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
      this.stats.spoofedSenderIds++;
      const held = (this.spoofLog ??= new LogThrottle(LOG_INTERVAL_MS)).take(now);
      if (held >= 0) this.log.warn(withHeld(`Ignored sender_id ${packet.senderId} on a ${packet.msg.$case} packet; using ${this.id}`, held));
    }
    this.stats.messageIn(packet.msg.$case);
    this.processMessage(this.id, packet.msg);
  }

  private rejectOverRate(now: number): void {
    this.rateDrops++;
    this.stats.rateDropped++;
    this.floodStrikes ??= new StrikeWindow(this.limits.floodLimit, STRIKE_WINDOW_MS, now);
    if (this.floodStrikes.add(now)) {
      this.close(`flooding: over ${this.limits.rateLimit} messages/s for too long`, CloseCode.policyViolation);
      return;
    }
    const held = (this.rateLog ??= new LogThrottle(LOG_INTERVAL_MS)).take(now);
    if (held >= 0) this.log.warn(withHeld(`Dropped a message over the rate limit of ${this.limits.rateLimit}/s (${this.rateDrops} so far)`, held));
  }

  private rejectMalformed(now: number, what: string): void {
    this.stats.malformedDropped++;
    this.malformedStrikes ??= new StrikeWindow(this.limits.maxMalformed, STRIKE_WINDOW_MS, now);
    if (this.malformedStrikes.add(now)) {
      this.close(`too many malformed frames (over ${this.limits.maxMalformed} in 10 s)`, CloseCode.policyViolation);
      return;
    }
    const held = (this.malformedLog ??= new LogThrottle(LOG_INTERVAL_MS)).take(now);
    if (held >= 0) this.log.warn(withHeld(`Dropped ${what}`, held));
  }

  processMessage(senderId: number, msg: Msg): void {
    const state = this.state;
    if (!state) return;
    try {
      const pending = state.handleMessage(senderId, msg);
      if (pending) pending.catch((err) => this.reportHandlerError(state, msg, err));
    } catch (err) {
      this.reportHandlerError(state, msg, err);
    }
  }

  setState(next: ClientState): void {
    const prev = this.state;
    this.log.info(`Switching from state ${prev?.name ?? "None"} to ${next.name}`);
    prev?.onExit();
    this.state = next;
    next.setClient(this);
    next.onEnter();
  }

  socketSend(msg: Msg): void {
    this.socketSendAs(msg, this.id);
  }

  socketSendAs(msg: Msg, senderId: number): void {
    if (!this.open) return;
    const bytes = encodePacket(senderId, msg);
    this.stats.packetOut(msg.$case, bytes.length);
    if (this.ws.send(bytes) === 0) {
      this.sendDrops++;
      this.stats.sendDropped++;
      const held = (this.dropLog ??= new LogThrottle(LOG_INTERVAL_MS)).take();
      if (held >= 0) this.log.warn(withHeld(`Dropped an outgoing packet: the socket is backed up (${this.sendDrops} so far)`, held));
    }
  }

  passToPeer(msg: Msg, peerId: number): void {
    this.hub.passToPeer(this.id, msg, peerId);
  }

  broadcast(msg: Msg, topic: string): void {
    this.hub.broadcast(this.id, msg, topic);
  }

  subscribe(topic: string): void {
    if (this.open) this.ws.subscribe(topic);
  }

  unsubscribe(topic: string): void {
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
    if (this.bufferedAmount < this.limits.backpressureLimit / 2) {
      this.backedUpSince = -1;
      return;
    }
    if (this.backedUpSince < 0) {
      this.backedUpSince = now;
      this.log.warn(`Backed up: ${this.bufferedAmount} bytes queued; packets past ${this.limits.backpressureLimit} are dropped`);
    } else if (now - this.backedUpSince > this.limits.slowReaderGrace * 1000) {
      this.close(`slow reader: backed up for over ${this.limits.slowReaderGrace} s`, CloseCode.tryAgainLater);
    }
  }

  /** Bun's close handler: the connection is gone, whichever side closed it. Runs once. */
  closed(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.stats.closed(code);
    this.log.info(`Connection closed (${code}${reason ? ` ${reason}` : ""})`);
    const state = this.state;
    this.state = undefined;
    try {
      state?.onExit();
    } catch (err) {
      this.log.error(`Leaving state ${state?.name} failed: ${errorText(err)}`);
    }
    this.hub.unregister(this.id);
  }

  private reportHandlerError(state: ClientState, msg: Msg, err: unknown): void {
    this.stats.handlerErrors++;
    this.log.error(`State ${state.name} failed on a ${msg.$case} packet, which was dropped: ${errorText(err)}`);
  }
}
