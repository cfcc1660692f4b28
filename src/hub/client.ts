// The seed's two interfaces: a connected client, and the state that decides what its packets mean.
import type { Logger } from "../log.ts";
import type { Msg } from "../packets/index.ts";

export interface ClientInterfacer {
  /** 0 until the hub registers the client; then unique for the server's lifetime. */
  readonly id: number;
  /** False once the connection has closed, whichever side closed it. */
  readonly open: boolean;
  /** The peer's IP address, for per-address rules such as login throttling. */
  readonly ip: string;
  /** Lines prefixed `Client N: `. */
  readonly log: Logger;
  /** Called once by the hub with the client's id; enters the first state. */
  initialize(id: number): void;
  /** A message from this client (senderId = id) or handed over by a peer (passToPeer). */
  processMessage(senderId: number, msg: Msg): void;
  setState(state: ClientState): void;
  /** Sends to this client's socket with its own id as the sender. */
  socketSend(msg: Msg): void;
  socketSendAs(msg: Msg, senderId: number): void;
  passToPeer(msg: Msg, peerId: number): void;
  /** Sends to every other client subscribed to `topic`. */
  broadcast(msg: Msg, topic: string): void;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** Hands already-encoded bytes to every other subscriber of `topic`; false when the socket cannot. */
  publish(topic: string, bytes: Uint8Array): boolean;
  close(reason: string, code?: number): void;
}

export interface ClientState {
  readonly name: string;
  setClient(client: ClientInterfacer): void;
  onEnter(): void;
  /** May be async (a login hashes off the event loop); a throw or rejection drops that packet only. */
  handleMessage(senderId: number, msg: Msg): void | Promise<void>;
  onExit(): void;
}
