// Hardening, round 2, over real sockets: chat held to a length and a rate and cleaned; connections,
// registrations and failed logins budgeted per address, an IPv6 /64 as one; a full password queue is
// "busy", not an internal error.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Reason } from "../src/accounts/rules.ts";
import { LoginThrottle } from "../src/accounts/throttle.ts";
import { ResumeReason, tokenKey } from "../src/hub/resume.ts";
import { decodePacket, encodePacket, type Msg, type Packet } from "../src/packets/index.ts";
import { ChatReason } from "../src/hub/chat.ts";
import { addressBudget } from "../src/addresses.ts";
import { RESTART_FILE } from "../src/server/restart.ts";
import { startServerProcess } from "../src/testing/server-process.ts";
import { login, radiusRumble, register, startTestServer, TestClient, type TestServer } from "./helpers.ts";

describe("chat", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer(radiusRumble);
  });
  afterAll(() => srv.stop());

  test("a 32,000-character chat is refused with a reason and relayed to nobody; 500 characters go through", async () => {
    const [sender, listener] = await Promise.all([TestClient.connect(srv.url), TestClient.connect(srv.url)]);
    sender.send({ $case: "chat", value: { msg: "x".repeat(32_000) } });
    expect((await sender.expect("denyResponse")).value.reason).toBe("Chat refused: longer than 500 characters");
    const line = "é".repeat(500);
    sender.send({ $case: "chat", value: { msg: line } });
    // The first line the listener hears is the short one: the long one went nowhere.
    expect((await listener.expect("chat")).value.msg).toBe(line);
    expect(srv.logs.has("Refused a chat line of 32000 characters")).toBe(true);
    sender.close();
    listener.close();
  });

  test("control and invisible characters are taken out of chat lines and logout reasons", async () => {
    const [sender, listener] = await Promise.all([TestClient.connect(srv.url), TestClient.connect(srv.url)]);
    sender.send({ $case: "chat", value: { msg: "hi\nSYSTEM: you are banned\u202Edesrever\u200B!" } });
    expect((await listener.expect("chat")).value.msg).toBe("hiSYSTEM: you are banneddesrever!");
    // In the world, a logout's reason reaches the others cleaned.
    expect(await register(sender, "Cleaner", "password")).toBe("ok");
    expect(await register(listener, "Watcher", "password")).toBe("ok");
    expect(await login(sender, "Cleaner", "password")).toBe("ok");
    expect(await login(listener, "Watcher", "password")).toBe("ok");
    sender.send({ $case: "disconnect", value: { reason: "bye\r\n\u202Eevil" } });
    const gone = await listener.next("disconnect", 3000);
    expect(gone.senderId).toBe(sender.id);
    expect(gone.msg!.value).toEqual({ reason: "byeevil" });
    sender.close();
    listener.close();
  });

  test("past the chat rate each line is refused, the message rate untouched; another client chats on", async () => {
    const rated = await startTestServer(radiusRumble, { chatRate: 2 });
    try {
      const [spammer, other, listener] = await Promise.all([TestClient.connect(rated.url), TestClient.connect(rated.url), TestClient.connect(rated.url)]);
      for (let i = 0; i < 15; i++) spammer.send({ $case: "chat", value: { msg: `spam ${i}` } });
      other.send({ $case: "chat", value: { msg: "hello" } });
      // Once both senders' lines are handled, what the listener was sent has arrived.
      await spammer.roundTrip();
      await other.roundTrip();
      await listener.roundTrip();
      const heard = listener.take("chat").map((p) => (p.msg!.value as { msg: string }).msg);
      expect(heard.filter((m) => m.startsWith("spam"))).toHaveLength(10);
      expect(heard).toContain("hello");
      const denies = spammer.packets.filter((p) => p.msg?.$case === "denyResponse").map((p) => (p.msg!.value as { reason: string }).reason);
      expect(denies).toEqual(Array(5).fill(ChatReason.tooFast(2)));
      expect(spammer.ws.readyState).toBe(WebSocket.OPEN);
      for (const c of [spammer, other, listener]) c.close();
    } finally {
      await rated.stop();
    }
  });
});

/** The status of a WebSocket upgrade sent from a socket bound to `localAddress`. */
function upgradeFrom(localAddress: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, localAddress }, () => {
      socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    socket.once("data", (data) => {
      resolve(Number(String(data).split(" ")[1]));
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

describe("one address is one budget", () => {
  test("an IPv6 /64 is one budget; an IPv4 address its own", () => {
    expect(addressBudget("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressBudget("2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(addressBudget("2001:db8:1:3::1")).toBe("2001:db8:1:3::/64");
    expect(addressBudget("::ffff:127.0.0.2")).toBe("127.0.0.2");
    expect(addressBudget("192.0.2.7")).toBe("192.0.2.7");
  });

  test("by default one address gets 256 connections, the next is refused with 429, and another address still gets in", async () => {
    const srv = await startTestServer(radiusRumble);
    try {
      const many = await Promise.all(Array.from({ length: 256 }, () => TestClient.connect(srv.url, { awaitId: false })));
      expect(await upgradeFrom("127.0.0.1", srv.port)).toBe(429);
      // The other client's socket bound to a second loopback address.
      expect(await upgradeFrom("127.0.0.2", srv.port)).toBe(101);
      await Promise.all(many.map((c) => c.close()));
    } finally {
      await srv.stop();
    }
  }, 30_000);

  test("connections and registrations from one IPv6 /64 count together, another /64 apart", async () => {
    const srv = await startTestServer(radiusRumble, { trustProxy: ["127.0.0.1"], maxClientsPerIp: 2, registerBurst: 2, registerPerMinute: 1 });
    try {
      const from = (address: string) => TestClient.connect(srv.url, { headers: { "X-Forwarded-For": address } });
      const [a, b] = await Promise.all([from("2001:db8:0:1::1"), from("2001:db8:0:1::2")]);
      await expect(from("2001:db8:0:1:ffff::3")).rejects.toThrow();
      const neighbour = await from("2001:db8:0:2::1");
      expect(await register(a, "Six1", "password")).toBe("ok");
      expect(await register(b, "Six2", "password")).toBe("ok");
      await a.close();
      const c = await from("2001:db8:0:1::9");
      expect(await register(c, "Six3", "password")).toBe(Reason.registerLimited);
      expect(await register(neighbour, "Six4", "password")).toBe("ok");
      for (const client of [b, c, neighbour]) client.close();
    } finally {
      await srv.stop();
    }
  });
});

describe("logins", () => {
  test("a name longer than any account's is refused at once and never reaches the throttle", async () => {
    const srv = await startTestServer(radiusRumble);
    try {
      const c = await TestClient.connect(srv.url);
      expect(await login(c, "n".repeat(2000), "password")).toBe(Reason.badLogin);
      expect(srv.services.accounts.hashQueue.length).toBe(0);
      c.close();
    } finally {
      await srv.stop();
    }
  });

  test("a registration refused because the password queue is full is told the server is busy", async () => {
    const srv = await startTestServer(radiusRumble, { trustProxy: ["127.0.0.1"], registerBurst: 1000 });
    try {
      const flood = await Promise.all(Array.from({ length: 100 }, () => TestClient.connect(srv.url, { headers: { "X-Forwarded-For": "198.51.100.40" } })));
      const answers = await Promise.all(flood.map((c, i) => register(c, `Busy${i}`, "password", 0, 30_000)));
      expect(answers.filter((a) => a === Reason.busy).length).toBeGreaterThan(0);
      expect(answers.filter((a) => a !== "ok" && a !== Reason.busy)).toEqual([]);
      expect(answers).not.toContain(Reason.registerFailed);
      await Promise.all(flood.map((c) => c.close()));
    } finally {
      await srv.stop();
    }
  }, 40_000);
});

/**
 * A WebSocket client on a socket bound to `localAddress` (Bun's WebSocket cannot choose its source
 * address): the handshake, then masked binary frames out and plain ones in, decoded as Packets.
 */
async function boundClient(localAddress: string, port: number) {
  const socket = connect({ host: "127.0.0.1", port, localAddress });
  let buffer = Buffer.alloc(0);
  const packets: Packet[] = [];
  let wake: (() => void) | undefined;
  let upgraded = false;
  socket.on("data", (data: Buffer) => {
    buffer = Buffer.concat([buffer, data]);
    if (!upgraded) {
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      upgraded = true;
      buffer = buffer.subarray(end + 4);
    }
    while (buffer.length >= 2) {
      let length = buffer[1]! & 0x7f;
      let at = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        at = 4;
      }
      if (buffer.length < at + length) return;
      if ((buffer[0]! & 0x0f) === 2) packets.push(decodePacket(buffer.subarray(at, at + length)));
      buffer = buffer.subarray(at + length);
    }
    wake?.();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const next = async (kinds: string[]): Promise<Packet> => {
    const deadline = performance.now() + 5000;
    for (;;) {
      const i = packets.findIndex((p) => kinds.includes(p.msg!.$case));
      if (i >= 0) return packets.splice(i, 1)[0]!;
      if (performance.now() > deadline) throw new Error(`no ${kinds.join(" or ")}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  };
  const send = (msg: Msg) => {
    const body = encodePacket(0, msg);
    const mask = [1, 2, 3, 4];
    const header = body.length < 126 ? [0x82, 0x80 | body.length] : [0x82, 0x80 | 126, body.length >> 8, body.length & 0xff];
    socket.write(Buffer.from([...header, ...mask, ...body.map((b, i) => b ^ mask[i % 4]!)]));
  };
  await next(["id"]);
  return {
    async login(username: string, password: string): Promise<string> {
      send({ $case: "loginRequest", value: { username, password } });
      const p = await next(["okResponse", "denyResponse"]);
      return p.msg!.$case === "okResponse" ? "ok" : (p.msg!.value as { reason: string }).reason;
    },
    close: () => socket.destroy(),
  };
}

describe("a player cannot be locked out by name", () => {
  test("five wrong passwords for alice from 127.0.0.1: 127.0.0.1 is refused, alice still logs in from 127.0.0.2", async () => {
    const srv = await startTestServer(radiusRumble);
    try {
      const setup = await TestClient.connect(srv.url);
      expect(await register(setup, "alice", "alice's password")).toBe("ok");
      setup.close();
      const attacker = await boundClient("127.0.0.1", srv.port);
      for (let i = 0; i < 5; i++) expect(await attacker.login("alice", "guess")).toBe(Reason.badLogin);
      expect(await attacker.login("alice", "alice's password")).toBe(Reason.badLogin);
      const alice = await boundClient("127.0.0.2", srv.port);
      expect(await alice.login("alice", "alice's password")).toBe("ok");
      attacker.close();
      alice.close();
    } finally {
      await srv.stop();
    }
  });

  test("a flood at one name from many addresses refuses those addresses, not one that never failed", () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < 100; i++) throttle.recordFailure("alice", `198.51.100.${i}`, 1000 + i);
    expect(throttle.isBlocked("alice", "198.51.100.7", 2000)).toBe(true);
    expect(throttle.isBlocked("alice", "203.0.113.9", 2000)).toBe(false);
    // Below the flood, four failures from one address do not block even it.
    const calm = new LoginThrottle();
    for (let i = 0; i < 4; i++) calm.recordFailure("bob", "198.51.100.1", 1000);
    expect(calm.isBlocked("bob", "198.51.100.1", 2000)).toBe(false);
  });

  test("a password login ends a session that was continued through its (stolen) token, with a reason; two password logins keep the series' rule", async () => {
    const srv = await startTestServer(radiusRumble, { resumeGrace: 30 });
    try {
      const owner = await TestClient.connect(srv.url);
      expect(await register(owner, "Victim", "password")).toBe("ok");
      expect(await login(owner, "Victim", "password")).toBe("ok");
      owner.send({ $case: "resumeTokenRequest", value: {} });
      const { token } = (await owner.expect("resumeToken")).value;
      await owner.close(4000);
      // The thief presents the token and holds the session.
      const thief = await TestClient.connect(srv.url);
      thief.send({ $case: "resumeRequest", value: { token } });
      expect((await thief.expect("resumeResponse")).value.ok).toBe(true);
      // The owner logs in with the password: let in, and the thief's connection is closed, told why.
      const back = await TestClient.connect(srv.url);
      expect(await login(back, "Victim", "password")).toBe("ok");
      const closed = await thief.closed;
      expect(closed.code).toBe(1008);
      expect(closed.reason).toBe(ResumeReason.reclaimed);
      // A second password login is still refused as the series refuses it.
      const second = await TestClient.connect(srv.url);
      expect(await login(second, "Victim", "password")).toBe(Reason.alreadyLoggedIn);
      back.close();
      second.close();
    } finally {
      await srv.stop();
    }
  });
});

describe("files at rest", () => {
  test("after SIGTERM the data folder is 0700 and its files 0600, and the restart file holds no token; the token still resumes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmo-private-"));
    chmodSync(dir, 0o755);
    try {
      const main = [process.execPath, join(import.meta.dir, "..", "src", "main.ts")];
      let srv = await startServerProcess(main, ["--data-dir", dir, "--log-level", "warn"]);
      const c = await TestClient.connect(srv.url);
      expect(await register(c, "Keeper", "password")).toBe("ok");
      expect(await login(c, "Keeper", "password")).toBe("ok");
      c.send({ $case: "resumeTokenRequest", value: {} });
      const { token } = (await c.expect("resumeToken")).value;
      await srv.stop();
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      const files = readdirSync(dir);
      expect(files).toContain(RESTART_FILE);
      expect(files).toContain("db.sqlite");
      for (const file of files) expect(`${file} ${(statSync(join(dir, file)).mode & 0o777).toString(8)}`).toBe(`${file} 600`);
      const saved = readFileSync(join(dir, RESTART_FILE), "utf8");
      expect(saved).not.toContain(token);
      expect(saved).toContain(tokenKey(token));
      srv = await startServerProcess(main, ["--data-dir", dir, "--log-level", "warn"]);
      const back = await TestClient.connect(srv.url);
      back.send({ $case: "resumeRequest", value: { token } });
      expect((await back.expect("resumeResponse", 5000)).value.ok).toBe(true);
      back.close();
      await srv.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("who is an operator", () => {
  test("without a token: a direct loopback request reads /metrics; one naming a forwarding hop does not, even 127.0.0.1; the rule is said at start", async () => {
    const srv = await startTestServer(radiusRumble, { trustProxy: ["127.0.0.1"] });
    try {
      const metrics = `http://127.0.0.1:${srv.port}/metrics`;
      expect((await fetch(metrics)).status).toBe(200);
      const forwardings: Record<string, string>[] = [{ "X-Forwarded-For": "127.0.0.1" }, { "X-Forwarded-For": "203.0.113.9" }, { Forwarded: "for=127.0.0.1" }, { "X-Real-IP": "127.0.0.1" }];
      for (const headers of forwardings) {
        expect((await fetch(metrics, { headers })).status).toBe(403);
      }
      expect(srv.logs.has("Operators: /metrics, /dashboard and /admin/* answer direct loopback requests only")).toBe(true);
    } finally {
      await srv.stop();
    }
  });

  test("a hop written with a port is the address it names", async () => {
    const srv = await startTestServer(radiusRumble, { trustProxy: ["127.0.0.1"], maxClientsPerIp: 1 });
    try {
      const a = await TestClient.connect(srv.url, { headers: { "X-Forwarded-For": "198.51.100.7:5678" } });
      // The same address with another port is the same budget: refused; the proxy's own address is not it.
      await expect(TestClient.connect(srv.url, { headers: { "X-Forwarded-For": "198.51.100.7:9999" } })).rejects.toThrow();
      const b = await TestClient.connect(srv.url, { headers: { "X-Forwarded-For": "[2001:db8::7]:443" } });
      expect(srv.logs.has("Refused a connection from 198.51.100.7:")).toBe(true);
      a.close();
      b.close();
    } finally {
      await srv.stop();
    }
  });

  test("from a trusted proxy only the header the operator names is read (--proxy-header); the rule is said at start", async () => {
    const via = (srv: TestServer, headers: Record<string, string>) => TestClient.connect(srv.url, { headers });
    const plain = await startTestServer(radiusRumble, { trustProxy: ["127.0.0.1"], maxClientsPerIp: 1 });
    try {
      // X-Forwarded-For by default: an X-Real-IP or a Forwarded is the proxy's own address, one budget.
      const a = await via(plain, { "X-Real-IP": "198.51.100.1" });
      await expect(via(plain, { "X-Real-IP": "198.51.100.2", Forwarded: "for=198.51.100.2" })).rejects.toThrow();
      const b = await via(plain, { "X-Forwarded-For": "198.51.100.3" });
      expect(plain.logs.has("Client addresses: from 127.0.0.1, the right-most untrusted hop of x-forwarded-for")).toBe(true);
      a.close();
      b.close();
    } finally {
      await plain.stop();
    }
    const named = await startTestServer(radiusRumble, { trustProxy: ["127.0.0.1"], proxyHeader: "x-real-ip", maxClientsPerIp: 1 });
    try {
      const a = await via(named, { "X-Real-IP": "198.51.100.1" });
      await expect(via(named, { "X-Real-IP": "198.51.100.1", "X-Forwarded-For": "198.51.100.2" })).rejects.toThrow();
      const b = await via(named, { "X-Forwarded-For": "198.51.100.3" });
      await expect(via(named, { "X-Forwarded-For": "198.51.100.4" })).rejects.toThrow();
      a.close();
      b.close();
    } finally {
      await named.stop();
    }
  });

  test("with a token: a malformed cookie is a 401, not a 500", async () => {
    const srv = await startTestServer(radiusRumble, { adminToken: "s3cret" });
    try {
      const res = await fetch(`http://127.0.0.1:${srv.port}/metrics`, { headers: { cookie: "mmo_admin=%E0%A4%A" } });
      expect(res.status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${srv.port}/metrics`, { headers: { authorization: "Bearer s3cret" } })).status).toBe(200);
    } finally {
      await srv.stop();
    }
  });
});

describe("refusals", () => {
  test("a flood of refused upgrades is answered every time and logged about once a second, with a count", async () => {
    const srv = await startTestServer(radiusRumble, { maxClientsPerIp: 1 });
    try {
      const held = await TestClient.connect(srv.url);
      const statuses = await Promise.all(Array.from({ length: 200 }, () => upgradeFrom("127.0.0.1", srv.port)));
      expect(statuses.every((s) => s === 429)).toBe(true);
      const lines = srv.logs.lines.filter((l) => l.includes("Refused a connection from 127.0.0.1"));
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines.length).toBeLessThanOrEqual(3);
      held.close();
    } finally {
      await srv.stop();
    }
  });
});

describe("a restart that cannot keep the game", () => {
  test("a failure to write the restart file is logged and the shutdown still closes the boards and the store, which opens again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmo-unkept-"));
    try {
      const main = [process.execPath, join(import.meta.dir, "..", "src", "main.ts")];
      let srv = await startServerProcess(main, ["--data-dir", dir, "--log-level", "info"]);
      const c = await TestClient.connect(srv.url);
      expect(await register(c, "Unkept", "password")).toBe("ok");
      expect(await login(c, "Unkept", "password")).toBe("ok");
      c.send({ $case: "resumeTokenRequest", value: {} });
      await c.expect("resumeToken");
      // The restart file's temporary name taken by a folder: writing it fails.
      mkdirSync(join(dir, `${RESTART_FILE}.tmp`));
      expect(await srv.stop()).toBe(0);
      expect(existsSync(join(dir, RESTART_FILE))).toBe(false);
      // The store was closed cleanly and opens again; the account is there.
      srv = await startServerProcess(main, ["--data-dir", dir, "--log-level", "warn"]);
      const again = await TestClient.connect(srv.url);
      expect(await login(again, "Unkept", "password")).toBe("ok");
      again.close();
      await srv.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
