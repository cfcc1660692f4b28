// The testkit's client: a real WebSocket client that speaks Packets, and the account requests.
import { decodePacket, encodePacket, type Msg, type MsgCase, type MsgValue, type Packet } from "../packets/index.ts";

export interface CloseEventInfo {
  code: number;
  reason: string;
}

export class TestClient {
  readonly packets: Packet[] = [];
  readonly closed: Promise<CloseEventInfo>;
  id = 0;
  /** Whether arriving packets are decoded and kept (a load generator that reads the bytes itself turns it off). */
  keeping = true;
  private waiters: (() => void)[] = [];
  private isClosed = false;
  private pings = 0;

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer";
    ws.addEventListener("message", (ev) => {
      if (typeof ev.data === "string") throw new Error(`server sent a text frame: ${ev.data}`);
      if (!this.keeping) return;
      this.packets.push(decodePacket(new Uint8Array(ev.data as ArrayBuffer)));
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      ws.addEventListener("close", (ev) => {
        this.isClosed = true;
        this.wake();
        resolve({ code: ev.code, reason: ev.reason });
      }),
    );
  }

  /** Connects and, unless told otherwise, waits for the id packet that every connection gets first. */
  static async connect(url: string, opts: { awaitId?: boolean; headers?: Record<string, string>; tls?: { rejectUnauthorized: boolean } } = {}): Promise<TestClient> {
    // Bun's WebSocket takes headers and TLS options as a second argument.
    const ws = new WebSocket(url, { headers: opts.headers, tls: opts.tls } as unknown as string[]);
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), { once: true });
    });
    if (opts.awaitId !== false) {
      const first = await client.next();
      if (first.msg?.$case !== "id") throw new Error(`first packet was ${first.msg?.$case}, not id`);
      client.id = first.msg.value.id;
    }
    return client;
  }

  send(msg: Msg, senderId = 0): void {
    this.ws.send(encodePacket(senderId, msg));
  }

  sendRaw(data: Uint8Array | string): void {
    this.ws.send(data);
  }

  /** The next packet (optionally of one kind, skipping others), or an error after `timeoutMs`. */
  next(kind?: MsgCase, timeoutMs = 3000): Promise<Packet> {
    return this.nextOf(kind ? [kind] : [], timeoutMs);
  }

  /** The next packet of one of these kinds (any, when none is named), skipping others, or an error after `timeoutMs`. */
  async nextOf(kinds: readonly MsgCase[], timeoutMs = 3000): Promise<Packet> {
    const deadline = performance.now() + timeoutMs;
    const what = kinds.length > 0 ? kinds.join(" or ") : "a packet";
    for (;;) {
      const index = kinds.length > 0 ? this.packets.findIndex((p) => p.msg !== undefined && kinds.includes(p.msg.$case)) : 0;
      if (index >= 0 && index < this.packets.length) return this.packets.splice(index, 1)[0]!;
      if (this.isClosed) throw new Error(`connection closed while waiting for ${what}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Typed shortcut: the value of the next packet of `kind`, with its sender. */
  async expect<K extends MsgCase>(kind: K, timeoutMs?: number): Promise<{ senderId: number; value: MsgValue<K> }> {
    const packet = await this.next(kind, timeoutMs);
    return { senderId: packet.senderId, value: packet.msg!.value as MsgValue<K> };
  }

  /** Waits `ms` and returns whatever packets of `kind` (or any) arrived meanwhile. */
  async drain(ms: number, kind?: MsgCase): Promise<Packet[]> {
    await Bun.sleep(ms);
    const taken = this.packets.filter((p) => !kind || p.msg?.$case === kind);
    for (const p of taken) this.packets.splice(this.packets.indexOf(p), 1);
    return taken;
  }

  /**
   * A round trip: resolves when the server has answered a WebSocket ping sent now. The server reads a
   * socket's frames in order and writes to it in order, so whatever it sent this client before it
   * read the ping (because of this client's earlier frames, or of anything it handled before) has
   * arrived by then. A check that nothing arrives waits for this, never for a fixed time.
   */
  roundTrip(timeoutMs = 3000): Promise<void> {
    const payload = `round trip ${++this.pings}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.ws.removeEventListener("pong", listener);
        reject(new Error(`no pong within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (ev: Event) => {
        const data = (ev as MessageEvent).data as string | ArrayBuffer;
        if ((typeof data === "string" ? data : new TextDecoder().decode(data)) !== payload) return;
        clearTimeout(timer);
        this.ws.removeEventListener("pong", listener);
        resolve();
      };
      this.ws.addEventListener("pong", listener);
      (this.ws as WebSocket & { ping(data: string): void }).ping(payload);
    });
  }

  /** The packets of `kind` that arrived and were not taken yet, taken now. */
  take(kind: MsgCase): Packet[] {
    const taken = this.packets.filter((p) => p.msg?.$case === kind);
    for (const p of taken) this.packets.splice(this.packets.indexOf(p), 1);
    return taken;
  }

  close(code = 1000): Promise<CloseEventInfo> {
    this.ws.close(code);
    return this.closed;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** Polls `check` until it holds or `timeoutMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 3000, what: string | (() => string) = "condition"): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    await Bun.sleep(5);
  }
}

/** The answer to a register or login request: "ok" or the deny reason. */
export type Answer = "ok" | string;

/**
 * The first ok_response or deny_response to arrive (other packets, a room's or the lobby's, stay
 * queued for the test), or an error after `timeoutMs`.
 */
export async function answer(client: TestClient, timeoutMs = 5000): Promise<Answer> {
  const packet = await client.nextOf(["okResponse", "denyResponse"], timeoutMs);
  return packet.msg?.$case === "denyResponse" ? packet.msg.value.reason : "ok";
}

export async function register(client: TestClient, username: string, password: string, color = 0, timeoutMs?: number): Promise<Answer> {
  client.send({ $case: "registerRequest", value: { username, password, color } });
  return answer(client, timeoutMs);
}

/** Logs in as the device `deviceId` (its first login makes the account); the server's identity_response. */
export async function loginDevice(client: TestClient, deviceId: string, timeoutMs?: number): Promise<MsgValue<"identityResponse">> {
  client.send({ $case: "deviceLoginRequest", value: { deviceId, color: 0 } });
  return (await client.expect("identityResponse", timeoutMs)).value;
}

export async function login(client: TestClient, username: string, password: string, timeoutMs?: number): Promise<Answer> {
  client.send({ $case: "loginRequest", value: { username, password } });
  return answer(client, timeoutMs);
}
