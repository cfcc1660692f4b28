// The series' interface of a connected client, as the states and rooms see it.
import type { Logger } from "../log.ts";
import type { Msg } from "../packets/index.ts";
import type { Account } from "../store/store.ts";

export interface ClientInterfacer {
  /** 0 until the hub registers the client; then unique for the server's lifetime. */
  readonly id: number;
  /** False once the connection has closed, whichever side closed it. */
  readonly open: boolean;
  /** The peer's IP address, for per-address rules such as login throttling. */
  readonly ip: string;
  /**
   * The address as a budget (connections, registrations, failed logins, resume attempts, the password
   * queue): an IPv4 address itself, an IPv6 address its /64.
   */
  readonly ipBudget: string;
  /** Lines prefixed `Client N: `. */
  readonly log: Logger;
  /** The name of the state the client is in ("None" before the first). */
  readonly stateName: string;
  /**
   * Counts the client's state changes, its close included. An async handler notes it before it awaits
   * and compares after: a different number means the client has left the state it started in.
   */
  readonly stateChanges: number;
  /** The account logged in on this connection, from a successful login until it is back in the lobby. */
  account: Account | undefined;
  /** Called once by the hub with the client's id; enters the first state. */
  initialize(id: number): void;
  /** A message from this client: its state's handler, else its room's, else ignored. */
  processMessage(msg: Msg): void;
  /** Leaves the current state and enters `name` (a transition the game's state table allows). */
  setState(name: string, arg?: unknown): void;
  /** Sends to this client's socket with its own id as the sender. */
  socketSend(msg: Msg): void;
  socketSendAs(msg: Msg, senderId: number): void;
  /** Sends an already encoded packet (one another node of a cluster encoded). */
  sendBytes(bytes: Uint8Array): void;
  /** Sends to every other client subscribed to `topic`. */
  broadcast(msg: Msg, topic: string): void;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** Hands already-encoded bytes to every other subscriber of `topic`; false when the socket cannot. */
  publish(topic: string, bytes: Uint8Array): boolean;
  close(reason: string, code?: number): void;
  /** The session is over (a logout): a resume token it was given stops working. */
  forgetSession(): void;
}
