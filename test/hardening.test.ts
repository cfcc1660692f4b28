// Hardening, round 2, over real sockets: chat held to a length and a rate and cleaned; connections,
// registrations and failed logins budgeted per address, an IPv6 /64 as one; a full password queue is
// "busy", not an internal error.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { Reason } from "../src/accounts/rules.ts";
import { ChatReason } from "../src/hub/chat.ts";
import { addressBudget } from "../src/server/client-address.ts";
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
    await listener.expect("chat");
    await listener.drain(200);
    expect(srv.logs.has("Refused a chat line of 32000 characters")).toBe(true);
    sender.close();
    listener.close();
  });

  test("control and invisible characters are taken out of chat lines and logout reasons", async () => {
    const [sender, listener] = await Promise.all([TestClient.connect(srv.url), TestClient.connect(srv.url)]);
    sender.send({ $case: "chat", value: { msg: "hi\nSYSTEM: you are banned\u202Edesrever\u200B!" } });
    expect((await listener.expect("chat")).value.msg).toBe("hiSYSTEM: you are banneddesrever!");
    // In the world, a logout's reason reaches the others cleaned.
    expect(await register(sender, "Cleaner", "pw")).toBe("ok");
    expect(await register(listener, "Watcher", "pw")).toBe("ok");
    expect(await login(sender, "Cleaner", "pw")).toBe("ok");
    expect(await login(listener, "Watcher", "pw")).toBe("ok");
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
      const heard = (await listener.drain(400, "chat")).map((p) => (p.msg!.value as { msg: string }).msg);
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
      expect(await register(a, "Six1", "pw")).toBe("ok");
      expect(await register(b, "Six2", "pw")).toBe("ok");
      await a.close();
      const c = await from("2001:db8:0:1::9");
      expect(await register(c, "Six3", "pw")).toBe(Reason.registerLimited);
      expect(await register(neighbour, "Six4", "pw")).toBe("ok");
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
      expect(await login(c, "n".repeat(2000), "pw")).toBe(Reason.badLogin);
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
      const answers = await Promise.all(flood.map((c, i) => register(c, `Busy${i}`, "pw", 0, 30_000)));
      expect(answers.filter((a) => a === Reason.busy).length).toBeGreaterThan(0);
      expect(answers.filter((a) => a !== "ok" && a !== Reason.busy)).toEqual([]);
      expect(answers).not.toContain(Reason.registerFailed);
      await Promise.all(flood.map((c) => c.close()));
    } finally {
      await srv.stop();
    }
  }, 40_000);
});
