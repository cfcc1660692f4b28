// Bad input, floods, slow readers, idle and half-open connections, admission, containment, shutdown:
// each against a real server with real sockets, bounded in count and time.
import { afterEach, describe, expect, test } from "bun:test";
import { lobbyState } from "../src/accounts/lobby.ts";
import { newChat } from "../src/packets/index.ts";
import { defineGame } from "../src/rooms/game.ts";
import { fuzzFrame, seededRandom } from "../src/testing/frames.ts";
import { stalledReaders } from "../src/testing/stalled-readers.ts";
import { join } from "node:path";
import net from "node:net";
import { radiusRumble } from "../src/games/radius-rumble/index.ts";
import type { Config } from "../src/config.ts";
import type { Game } from "../src/rooms/game.ts";
import { login, startTestServer, TestClient, waitFor, type TestServer } from "./helpers.ts";

const servers: TestServer[] = [];
async function serve(overrides: Partial<Config> = {}, game: Game = radiusRumble): Promise<TestServer> {
  const srv = await startTestServer(game, overrides);
  servers.push(srv);
  return srv;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** A canary pair: a chats to b and back; returns the round-trip times in ms. */
async function canaryRoundTrips(a: TestClient, b: TestClient, rounds: number, tag: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const text = `${tag} ${i}`;
    const start = performance.now();
    a.send(newChat(text));
    for (;;) {
      const chat = await b.expect("chat", 5000);
      if (chat.value.msg === text && chat.senderId === a.id) break;
    }
    times.push(performance.now() - start);
  }
  return times;
}

const max = (xs: number[]) => Math.max(...xs);

describe("frame size", () => {
  test("an oversized frame closes that connection with 1009, and only that one", async () => {
    const srv = await serve({ maxPayload: 1024 });
    const [big, a, b] = await Promise.all([1, 2, 3].map(() => TestClient.connect(srv.url)));
    big!.send(newChat("x".repeat(2000)));
    expect((await big!.closed).code).toBe(1009);
    a!.send(newChat("fine"));
    expect((await b!.expect("chat")).value.msg).toBe("fine");
    await waitFor(() => srv.hub.size === 2, 3000, "the big sender to leave");
  });

  test("a frame just under the limit passes", async () => {
    const srv = await serve({ maxPayload: 1024, maxChatLength: 2000 });
    const [a, b] = await Promise.all([1, 2].map(() => TestClient.connect(srv.url)));
    a!.send(newChat("y".repeat(1000)));
    expect((await b!.expect("chat")).value.msg).toHaveLength(1000);
  });
});

describe("malformed frames", () => {
  test("below the threshold they are dropped; past it the client is closed with 1008", async () => {
    const srv = await serve({ maxMalformed: 5 });
    const [bad, other] = await Promise.all([1, 2].map(() => TestClient.connect(srv.url)));
    for (let i = 0; i < 5; i++) bad!.sendRaw(new Uint8Array([0xff, 0xff]));
    bad!.send(newChat("after five bad frames"));
    expect((await other!.expect("chat")).value.msg).toBe("after five bad frames");
    bad!.sendRaw(new Uint8Array([0xff, 0xff]));
    const closed = await bad!.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain("malformed");
    expect(srv.stats.malformedDropped).toBe(6);
    // Only one warning line made it to the log for the whole burst: the rest were held back.
    expect(srv.logs.lines.filter((l) => l.includes("Dropped a malformed frame")).length).toBe(1);
  });

  test("a string of invalid UTF-8 makes the frame malformed: dropped, counted, never relayed", async () => {
    const srv = await serve();
    const [bad, other] = await Promise.all([1, 2].map(() => TestClient.connect(srv.url)));
    // Packet{chat{msg}}: field 2 (chat) holding field 1 (msg); 0xC3 0x28 is not UTF-8, nor is a lone 0xFF.
    for (const text of [[0x68, 0xc3, 0x28], [0xff], [0xed, 0xa0, 0x80]]) {
      bad!.sendRaw(new Uint8Array([0x12, text.length + 2, 0x0a, text.length, ...text]));
    }
    bad!.send(newChat("valid: héllo ✓"));
    // The first chat the other gets is the valid one, sent after the three bad ones.
    expect((await other!.expect("chat")).value.msg).toBe("valid: héllo ✓");
    expect(srv.stats.malformedDropped).toBe(3);
  });

  test("10,000 random and mutated frames never crash the server; a canary pair keeps chatting", async () => {
    const srv = await serve({ maxMalformed: 1_000_000, rateLimit: 1_000_000, rateBurst: 1_000_000 });
    const [fuzzer, a, b] = await Promise.all([1, 2, 3].map(() => TestClient.connect(srv.url)));
    const random = seededRandom(20261126);
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 1000; i++) fuzzer!.sendRaw(fuzzFrame(random));
      await canaryRoundTrips(a!, b!, 1, `canary ${round}`);
    }
    await canaryRoundTrips(b!, a!, 3, "canary back");
    expect(fuzzer!.ws.readyState).toBe(WebSocket.OPEN);
    expect(srv.stats.framesIn).toBeGreaterThanOrEqual(10_000);
    expect(srv.stats.malformedDropped).toBeGreaterThan(1000);
  }, 30_000);
});

describe("rate limit", () => {
  test("a flooder is limited, then closed with 1008, while the canary's latency stays low", async () => {
    const srv = await serve({ rateLimit: 50, rateBurst: 50, floodLimit: 2000 });
    const [flooder, a, b, observer] = await Promise.all([1, 2, 3, 4].map(() => TestClient.connect(srv.url)));
    const baseline = await canaryRoundTrips(a!, b!, 20, "before");

    const start = performance.now();
    const flood = (async () => {
      for (let i = 0; i < 30 && flooder!.ws.readyState === WebSocket.OPEN; i++) {
        for (let j = 0; j < 200; j++) flooder!.send(newChat(`flood ${i}.${j}`));
        await Bun.sleep(5);
      }
    })();
    const during = await canaryRoundTrips(a!, b!, 20, "during");
    await flood;
    const closed = await flooder!.closed;
    const seconds = (performance.now() - start) / 1000;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain("flooding");

    // The others got at most the burst plus the allowed rate of the flood.
    const floodSeen = (await observer!.drain(100, "chat")).filter((p) => p.senderId === flooder!.id).length;
    expect(floodSeen).toBeGreaterThanOrEqual(50);
    expect(floodSeen).toBeLessThanOrEqual(50 + 50 * seconds + 5);
    expect(srv.stats.rateDropped).toBeGreaterThan(2000);
    console.log(`flood: canary max round trip ${max(baseline).toFixed(1)} ms before, ${max(during).toFixed(1)} ms during; ${floodSeen} flood chats passed, ${srv.stats.rateDropped} dropped`);
    expect(max(during)).toBeLessThan(250);
  }, 30_000);
});

describe("slow readers", () => {
  test("twenty clients that never read stay within the backpressure limit, and are closed", async () => {
    const limit = 256 * 1024;
    const srv = await serve({ backpressureLimit: limit, slowReaderGrace: 1, rateLimit: 100_000, rateBurst: 100_000, chatRate: 100_000, maxChatLength: 100_000 });
    const stalled = await stalledReaders(srv.url, 20);
    try {
      const [writer, canary] = await Promise.all([1, 2].map(() => TestClient.connect(srv.url)));
      await waitFor(() => srv.hub.size === 22, 3000, "all clients");
      const chunk = newChat("z".repeat(16 * 1024));
      let maxBuffered = 0;
      // 24 MiB of chat: well past what the kernel's socket buffers of 20 stalled readers take. The
      // canary lives in this process, so the writer waits for it to keep up (it reads, but only when
      // this loop lets it): a canary that fell a whole backpressure limit behind would rightly lose packets.
      for (let i = 0; i < 1536; i++) {
        writer!.send(chunk);
        if (i % 8 === 7) {
          await waitFor(() => canary!.packets.length >= i - 7, 10_000, "the canary to keep up");
          for (const c of srv.hub.clients.values()) {
            if (c.id !== writer!.id && c.id !== canary!.id && c.open) maxBuffered = Math.max(maxBuffered, c.bufferedAmount);
          }
        }
      }
      // The canary, which reads, got every chunk.
      await waitFor(() => canary!.packets.length >= 1536, 20_000, () => `the canary to get every chunk (it has ${canary!.packets.length})`);
      expect(maxBuffered).toBeGreaterThan(0);
      expect(maxBuffered).toBeLessThanOrEqual(limit);
      // The stalled readers are closed when their queue reaches the limit (or after the grace period, short of it).
      await waitFor(() => srv.hub.size === 2, 20_000, () => `the stalled readers to be closed (${srv.hub.size - 2} left, queued: ${[...srv.hub.clients.values()].map((c) => c.bufferedAmount).join(",")})`);
      console.log(`slow readers: max ${maxBuffered} bytes queued for one (limit ${limit}); all 20 closed`);
    } finally {
      await stalled.end();
    }
  }, 60_000);
});

describe("slow readers get every packet or a close", () => {
  test("readers that fall a backpressure limit behind are closed at once, never left open short of packets", async () => {
    const limit = 256 * 1024;
    const srv = await serve({ backpressureLimit: limit, rateLimit: 100_000, rateBurst: 100_000, chatRate: 100_000, maxChatLength: 100_000 });
    const readers = await stalledReaders(srv.url, 2);
    try {
      const [writer, canary] = await Promise.all([1, 2].map(() => TestClient.connect(srv.url)));
      await waitFor(() => srv.hub.size === 4, 3000, "all clients");
      const chunk = newChat("s".repeat(16 * 1024));
      const chunks = 512; // 8 MiB each: more than the kernel's socket buffers hold for a reader that stopped
      for (let i = 0; i < chunks; i++) {
        writer!.send(chunk);
        if (i % 8 === 7) await waitFor(() => canary!.packets.length >= i - 7, 10_000, "the canary to keep up");
      }
      await waitFor(() => canary!.packets.length >= chunks, 10_000, "the canary to get every chunk");
      // Far within the 10 s grace: the readers have been closed at the limit, not left to miss packets.
      readers.resume();
      let reports = await readers.report();
      const settled = () => reports.every((r) => r.closeCode !== 0 || r.frames === 1 + chunks);
      for (let i = 0; i < 50 && !settled(); i++) {
        await Bun.sleep(100);
        reports = await readers.report();
      }
      expect(reports.map((r) => (r.closeCode !== 0 ? "closed" : r.frames === 1 + chunks ? "got every packet" : `open, missing ${1 + chunks - r.frames}`))).toEqual(["closed", "closed"]);
      expect(srv.hub.size).toBe(2);
    } finally {
      await readers.end();
    }
  }, 30_000);
});

describe("logs", () => {
  test("what a client wrote is quoted, escaped and cut: no forged lines, no 32 KB lines", async () => {
    const srv = await serve();
    const c = await TestClient.connect(srv.url);
    const forged = "x\n2026/01/01 00:00:00 ERROR forged line\u202E";
    await login(c, forged, "password");
    await login(c, "y".repeat(30_000), "password");
    await waitFor(() => srv.logs.lines.filter((l) => l.includes("Failed login")).length === 2, 5000, "two failed logins logged");
    expect(srv.logs.lines.some((l) => l.startsWith("2026/01/01"))).toBe(false);
    expect(srv.logs.has(String.raw`Failed login for "x\n2026/01/01 00:00:00 ERROR forged line\u202e"`)).toBe(true);
    expect(Math.max(...srv.logs.lines.map((l) => l.length))).toBeLessThan(300);
    expect(srv.logs.has("(30000 characters)")).toBe(true);
  });

  test("the lines one client can cause are held to a budget, with a count of what was held", async () => {
    const srv = await serve();
    const c = await TestClient.connect(srv.url);
    for (let i = 0; i < 150; i++) c.send({ $case: "loginRequest", value: { username: `ghost${i}`, password: "x" } });
    await waitFor(() => (srv.stats.logins.bad_credentials ?? 0) + (srv.stats.logins.throttled ?? 0) >= 1, 5000, "logins answered");
    await Bun.sleep(1500);
    const mine = srv.logs.lines.filter((l) => l.includes(`Client ${c.id}: `));
    expect(mine.length).toBeLessThanOrEqual(40);
    c.send(newChat("later"));
    await Bun.sleep(1100);
    c.send({ $case: "loginRequest", value: { username: "ghost-last", password: "x" } });
    await waitFor(() => srv.logs.has("held back"), 5000, "a line with the count of held lines");
  });

  test("when nobody reads the log, its output stays bounded: lines are dropped with a count, memory does not grow", async () => {
    // The pipe's reader sleeps for 3 s before it reads anything: the flood meets a stalled reader.
    const flood = `"${process.execPath}" "${join(import.meta.dir, "fixtures", "log-flood.ts")}" | { sleep 3; cat; }`;
    const proc = Bun.spawn(["bash", "-c", flood], { stdout: "pipe", stderr: "pipe" });
    const stderr = await new Response(proc.stderr).text();
    const peak = Number(stderr.match(/peak-rss-mib (\d+)/)?.[1]);
    const out = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    console.log(`log flood: 100 MB logged into an unread pipe, peak RSS ${peak} MiB`);
    expect(peak).toBeLessThan(100);
    expect(out).toMatch(/WARN \d+ log line\(s\) dropped: the log's reader did not keep up/);
  }, 30_000);
});

describe("dashboard streams", () => {
  /** Radius Rumble with a dashboard of a megabyte a snapshot: a reader that stops fills the socket's buffers in seconds. */
  const heavy = defineGame({
    ...radiusRumble,
    create(ctx) {
      const runtime = radiusRumble.create(ctx);
      return { ...runtime, dashboard: () => ({ tiles: { Ballast: "x".repeat(1_000_000) } }) };
    },
  });

  test("a stream whose reader stops is closed once a few snapshots wait for it; a stream that reads goes on", async () => {
    const srv = await serve({}, heavy);
    const request = `GET /dashboard/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    const stalled = net.connect(srv.port, "127.0.0.1", () => stalled.write(request));
    stalled.once("data", () => stalled.pause());
    const closed = new Promise((resolve) => stalled.on("close", resolve));
    let readerBytes = 0;
    const reader = net.connect(srv.port, "127.0.0.1", () => reader.write(request));
    reader.on("data", (chunk) => (readerBytes += chunk.length));
    try {
      await waitFor(() => srv.logs.has("Closed a dashboard stream that stopped reading"), 20_000, "the stalled stream to be closed");
      // What was sent before the close can still be read, then the connection ends.
      stalled.resume();
      await closed;
      const before = readerBytes;
      await Bun.sleep(1200);
      expect(readerBytes - before).toBeGreaterThan(1_000_000);
      expect(srv.logs.lines.filter((l) => l.includes("Closed a dashboard stream")).length).toBe(1);
    } finally {
      stalled.destroy();
      reader.destroy();
    }
  }, 30_000);
});

describe("idle and half-open connections", () => {
  // uWS drops a connection whose request headers are not complete within 10 s; that is not tunable,
  // and its timer checks in coarse steps, so the drop comes between 10 and about 14 s.
  test("a half-open HTTP connection that never finishes its upgrade is dropped", async () => {
    const srv = await serve();
    const start = performance.now();
    const closed = Promise.withResolvers<number>();
    await Bun.connect({
      hostname: "127.0.0.1",
      port: srv.port,
      socket: {
        open(socket) {
          socket.write("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n");
        },
        data() {},
        close() {
          closed.resolve(performance.now() - start);
        },
      },
    });
    const ms = await closed.promise;
    expect(ms).toBeGreaterThan(7_000);
    expect(ms).toBeLessThan(15_000);
  }, 20_000);

  test("a client that answers no ping is closed after the idle timeout", async () => {
    const srv = await serve({ idleTimeout: 8 });
    const stalled = await stalledReaders(srv.url, 1);
    try {
      await waitFor(() => srv.hub.size === 1, 3000, "the client");
      await waitFor(() => srv.hub.size === 0, 25_000, "the idle client to be closed");
    } finally {
      await stalled.end();
    }
  }, 30_000);
});

describe("admission", () => {
  test("past --max-clients the upgrade is refused with 503 and a reason", async () => {
    const srv = await serve({ maxClients: 3 });
    const clients = await Promise.all([1, 2, 3].map(() => TestClient.connect(srv.url)));
    const res = await fetch(srv.url.replace("ws://", "http://"), { headers: { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13" } });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("Server full");
    await clients[0]!.close();
    await waitFor(() => srv.hub.size === 2, 3000, "a free place");
    expect((await TestClient.connect(srv.url)).id).toBeGreaterThan(0);
  });

  test("an origin allowlist refuses other browsers with 403 and always lets native Godot (no Origin) in", async () => {
    const srv = await serve({ allowedOrigins: ["https://game.example"] });
    expect((await TestClient.connect(srv.url, { headers: { Origin: "https://game.example" } })).id).toBeGreaterThan(0);
    expect((await TestClient.connect(srv.url)).id).toBeGreaterThan(0);
    const res = await fetch(srv.url.replace("ws://", "http://"), {
      headers: { Origin: "https://evil.example", Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13" },
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("https://evil.example");
  });

  test("the per-IP cap refuses with 429", async () => {
    const srv = await serve({ maxClientsPerIp: 2 });
    await Promise.all([1, 2].map(() => TestClient.connect(srv.url)));
    await expect(TestClient.connect(srv.url)).rejects.toThrow();
    expect(srv.stats.upgradesRefused.get("ip_limit")).toBe(1);
  });
});

/** A game whose lobby throws on the chat "throw" and rejects on the chat "reject". */
const throwingGame = defineGame({
  name: "throwing",
  description: "a lobby whose chat handler fails on purpose",
  create({ accounts }) {
    const lobby = lobbyState(accounts, { afterLogin: () => {} });
    return {
      states: {
        initial: "Connected",
        states: {
          Connected: {
            ...lobby,
            handleMessage: {
              ...lobby.handleMessage,
              chat(client, chat, data) {
                if (chat.msg === "throw") throw new Error("boom");
                if (chat.msg === "reject") return Promise.reject(new Error("async boom"));
                return lobby.handleMessage.chat!(client, chat, data);
              },
            },
          },
        },
        transitions: { Connected: [] },
      },
      rooms: {},
    };
  },
});

describe("containment", () => {
  test("an exception in a state handler drops that packet; the client and the server carry on", async () => {
    const srv = await serve({}, throwingGame);
    const [a, b] = await Promise.all([1, 2].map(() => TestClient.connect(srv.url)));
    a!.send(newChat("throw"));
    a!.send(newChat("reject"));
    a!.send(newChat("still alive"));
    expect((await b!.expect("chat")).value.msg).toBe("still alive");
    await waitFor(() => srv.stats.handlerErrors === 2, 2000, "both errors");
    expect(srv.logs.has(new RegExp(`Client ${a!.id}: State Connected failed on a chat packet, which was dropped: boom`))).toBe(true);
    expect(srv.logs.has("async boom")).toBe(true);
  });
});

describe("shutdown", () => {
  test("every client gets disconnect then 1001; done within 5 s even with a client that never reads", async () => {
    const srv = await startTestServer(radiusRumble);
    const stalled = await stalledReaders(srv.url, 1);
    try {
      const a = await TestClient.connect(srv.url);
      const start = performance.now();
      await srv.shutdown(5000);
      expect(performance.now() - start).toBeLessThan(5500);
      expect((await a.expect("disconnect")).value.reason).toBe("server shutting down");
      expect((await a.closed).code).toBe(1001);
    } finally {
      await stalled.end();
    }
  }, 15_000);
});
