// One connection over Bun's ServerWebSocket: the seed's read pump (decode, stamp the sender, hand to
// the state) and write pump (binary frames, dropped and counted when the socket is backed up).
import type { ServerWebSocket } from "bun";
import { LogThrottle, withHeld, type Logger } from "../log.ts";
import { decodePacket, encodePacket, type Msg } from "../packets/index.ts";
import type { ClientInterfacer, ClientState } from "./client.ts";
import type { Hub } from "./hub.ts";

export interface SocketData {
  remoteAddress: string;
  client?: WebSocketClient;
}

/** Close codes the server uses (RFC 6455 §7.4.1). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
} as const;

const LOG_INTERVAL_MS = 5000;

export class WebSocketClient implements ClientInterfacer {
  id = 0;
  open = true;
  /** Frames Bun dropped because this client's socket was backed up. */
  sendDrops = 0;
  private state: ClientState | undefined;
  log: Logger;
  private readonly malformedLog = new LogThrottle(LOG_INTERVAL_MS);
  private readonly spoofLog = new LogThrottle(LOG_INTERVAL_MS);
  private readonly dropLog = new LogThrottle(LOG_INTERVAL_MS);

  constructor(
    private readonly ws: ServerWebSocket<SocketData>,
    private readonly hub: Hub,
    private readonly firstState: () => ClientState,
    log: Logger,
  ) {
    this.log = log;
  }

  get stateName(): string {
    return this.state?.name ?? "None";
  }

  initialize(id: number): void {
    this.id = id;
    this.log = this.log.child(`Client ${id}: `);
    this.setState(this.firstState());
  }

  /** The read pump: one WebSocket frame from this client's socket. */
  receive(frame: string | Buffer): void {
    if (typeof frame === "string") {
      this.log.warn("Received a text frame; only binary protobuf Packets are accepted");
      this.close("text frames are not supported: send binary protobuf Packets", CloseCode.unsupportedData);
      return;
    }
    let packet;
    try {
      packet = decodePacket(frame);
    } catch (err) {
      const held = this.malformedLog.take();
      if (held >= 0) this.log.warn(withHeld(`Dropped a malformed frame of ${frame.length} bytes: ${errorText(err)}`, held));
      return;
    }
    if (packet.msg === undefined) {
      const held = this.malformedLog.take();
      if (held >= 0) this.log.warn(withHeld("Dropped a packet that carries no message", held));
      return;
    }
    if (packet.senderId !== 0 && packet.senderId !== this.id) {
      const held = this.spoofLog.take();
      if (held >= 0) this.log.warn(withHeld(`Ignored sender_id ${packet.senderId} on a ${packet.msg.$case} packet; using ${this.id}`, held));
    }
    this.processMessage(this.id, packet.msg);
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
    this.sendBytes(encodePacket(senderId, msg));
  }

  sendBytes(bytes: Uint8Array): void {
    if (!this.open) return;
    if (this.ws.send(bytes) === 0) {
      this.sendDrops++;
      const held = this.dropLog.take();
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
    if (!this.open) return;
    this.log.info(`Closing client connection because: ${reason}`);
    this.ws.close(code, reason);
  }

  /** Bun's close handler: the connection is gone, whichever side closed it. Runs once. */
  closed(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
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
    this.log.error(`State ${state.name} failed on a ${msg.$case} packet, which was dropped: ${errorText(err)}`);
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
