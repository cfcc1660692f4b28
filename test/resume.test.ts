// Session resume on a real server, over real sockets: connections dropped the way networks drop them
// (a TCP proxy cut, no close frame), what was sent meanwhile replayed exactly once, the others never
// told, and every way a resume is refused.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../src/config.ts";
import { ResumeReason } from "../src/hub/resume.ts";
import { WORLD_ROOM, type WorldRoom } from "../src/games/radius-rumble/world-room.ts";
import { newChat, type Packet } from "../src/packets/index.ts";
import { RESTART_FILE } from "../src/server/restart.ts";
import { startServerProcess, type ServerProcess } from "../src/testing/server-process.ts";
import { TcpProxy } from "../src/testing/tcp-proxy.ts";
import { clusterOf, clusterOnRedis, describeRedis, login, radiusRumble, register, startTestServer, TestClient, type TestServer, waitFor } from "./helpers.ts";

const servers: TestServer[] = [];
const proxies: TcpProxy[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const p of proxies.splice(0)) p.stop();
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serve(overrides: Partial<Config> = {}): Promise<TestServer> {
  const srv = await startTestServer(radiusRumble, overrides);
  servers.push(srv);
  return srv;
}

async function connect(url: string): Promise<TestClient> {
  const c = await TestClient.connect(url);
  clients.push(c);
  return c;
}

let accounts = 0;
/** A client in the world (through `url`), with a fresh account. */
async function player(srv: TestServer, url = srv.url): Promise<TestClient> {
  const name = `R${++accounts}`;
  const c = await connect(url);
  expect(await register(c, name, "password")).toBe("ok");
  expect(await login(c, name, "password")).toBe("ok");
  await c.expect("player");
  return c;
}

async function tokenOf(c: TestClient): Promise<{ token: string; graceSeconds: number }> {
  c.send({ $case: "resumeTokenRequest", value: {} });
  return (await c.expect("resumeToken")).value;
}

async function resume(url: string, token: string) {
  const c = await connect(url);
  c.send({ $case: "resumeRequest", value: { token } });
  return { c, response: (await c.expect("resumeResponse")).value };
}

const chats = (packets: Packet[]) => packets.flatMap((p) => (p.msg?.$case === "chat" ? [p.msg.value.msg] : []));
const disconnectsFrom = (packets: Packet[], id: number) => packets.filter((p) => p.msg?.$case === "disconnect" && p.senderId === id);

describe("session resume", () => {
  test("a dropped TCP connection in the world, resumed within the grace: chat sent meanwhile replayed once, the others told nothing", async () => {
    const srv = await serve();
    const proxy = TcpProxy.start(srv.port);
    proxies.push(proxy);
    const a = await player(srv, proxy.url);
    const b = await player(srv);
    const oldId = a.id;
    const { token, graceSeconds } = await tokenOf(a);
    expect(graceSeconds).toBe(30);
    expect(Buffer.from(token, "base64url").length).toBeGreaterThanOrEqual(16);
    proxy.cut();
    await waitFor(() => srv.logs.has(`Client ${oldId}: Session held for 30 s`), 3000, "the session to be held");
    b.send(newChat("while you were away"));
    await Bun.sleep(200);
    const world = srv.rooms.get<WorldRoom>(WORLD_ROOM)!.world;
    expect(world.players.has(oldId)).toBe(true);

    const { c, response } = await resume(srv.url, token);
    expect(response).toMatchObject({ ok: true, id: oldId, reason: "" });
    expect(response.replayed).toBeGreaterThanOrEqual(1);
    // The kept packets come right after the response, in order; then the room's catch-up; then a new token.
    await waitFor(() => c.packets.length >= response.replayed, 2000, "the kept packets");
    const replayed = c.packets.splice(0, response.replayed);
    expect(chats(replayed)).toEqual(["while you were away"]);
    expect(replayed.every((p) => !(p.msg?.$case === "player"))).toBe(true);
    expect((await c.expect("player")).value.id).toBe(oldId);
    expect((await c.expect("resumeToken")).value.token).not.toBe(token);
    await Bun.sleep(200);
    expect(chats(c.packets)).toEqual([]);
    expect(disconnectsFrom(b.packets, oldId)).toEqual([]);
    // From now on the connection is the old client: its chat goes out with the old id.
    c.send(newChat("back"));
    await waitFor(() => chats(b.packets).includes("back"), 2000, "the chat after the resume");
    expect(b.packets.find((p) => p.msg?.$case === "chat" && p.msg.value.msg === "back")!.senderId).toBe(oldId);
    expect(srv.hub.size).toBe(2);
    // A token works once.
    const again = await resume(srv.url, token);
    expect(again.response).toEqual({ ok: false, id: 0, reason: ResumeReason.unknownToken, replayed: 0 });
  });

  test("the grace runs out: the others are told once; the token is then refused", async () => {
    const srv = await serve({ resumeGrace: 1 });
    const proxy = TcpProxy.start(srv.port);
    proxies.push(proxy);
    const a = await player(srv, proxy.url);
    const b = await player(srv);
    const { token } = await tokenOf(a);
    proxy.cut();
    await Bun.sleep(500);
    expect(disconnectsFrom(b.packets, a.id)).toEqual([]);
    await waitFor(() => disconnectsFrom(b.packets, a.id).length > 0, 4000, "the disconnect after the grace");
    await Bun.sleep(300);
    expect(disconnectsFrom(b.packets, a.id)).toHaveLength(1);
    expect((await resume(srv.url, token)).response.reason).toBe(ResumeReason.unknownToken);
  });

  test("a close with 1000, and a client that never asked, leave at once as always", async () => {
    const srv = await serve();
    const proxy = TcpProxy.start(srv.port);
    proxies.push(proxy);
    const b = await player(srv);
    const asked = await player(srv);
    await tokenOf(asked);
    await asked.close(1000);
    await waitFor(() => disconnectsFrom(b.packets, asked.id).length === 1, 2000, "the leave of a 1000 close");
    const series = await player(srv, proxy.url);
    const seriesPackets = series.packets.length;
    proxy.cut();
    await waitFor(() => disconnectsFrom(b.packets, series.id).length === 1, 2000, "the leave of a client that never asked");
    expect(series.packets.slice(seriesPackets).some((p) => p.msg?.$case.startsWith("resume"))).toBe(false);
    expect(srv.hub.size).toBe(1);
  });

  test("refusals: before a login, resume off, not the first message, a session still connected, too much missed", async () => {
    const srv = await serve({ resumeBuffer: 2048 });
    const lobby = await connect(srv.url);
    lobby.send({ $case: "resumeTokenRequest", value: {} });
    expect((await lobby.expect("denyResponse")).value.reason).toBe(ResumeReason.loginFirst);

    const a = await player(srv);
    const { token } = await tokenOf(a);
    // A live session is not taken over, and stays as it was.
    const thief = await resume(srv.url, token);
    expect(thief.response.reason).toBe(ResumeReason.stillConnected);
    a.send(newChat("still here"));
    const b = await player(srv);
    b.send(newChat("hello a"));
    expect(chats([(await a.next("chat")) as Packet])).toEqual(["hello a"]);
    // A resume request after the first state is refused.
    b.send({ $case: "resumeRequest", value: { token } });
    expect((await b.expect("resumeResponse")).value.reason).toBe(ResumeReason.notFirst);

    // Too much missed: the buffer is 2 KiB.
    const proxy = TcpProxy.start(srv.port);
    proxies.push(proxy);
    const c = await player(srv, proxy.url);
    const cToken = (await tokenOf(c)).token;
    proxy.cut();
    await waitFor(() => srv.logs.has(`Client ${c.id}: Session held`), 3000, "the session to be held");
    for (let i = 0; i < 40; i++) b.send(newChat(`message ${i} `.padEnd(100, ".")));
    await waitFor(() => disconnectsFrom(a.packets, c.id).length === 1, 3000, "the overflowed session to end");
    expect((await resume(srv.url, cToken)).response.reason).toBe(ResumeReason.unknownToken);

    const off = await serve({ resumeGrace: 0 });
    const d = await player(off);
    d.send({ $case: "resumeTokenRequest", value: {} });
    expect((await d.expect("denyResponse")).value.reason).toBe(ResumeReason.off);
    expect((await resume(off.url, "anything")).response.reason).toBe(ResumeReason.off);
  });

  test("guessed tokens from one address: after 20 failures, refused for a while, logged with the address; others unaffected", async () => {
    const srv = await serve();
    const a = await player(srv);
    const witness = await player(srv);
    const { token } = await tokenOf(a);
    const reasons: string[] = [];
    for (let i = 0; i < 24; i++) reasons.push((await resume(srv.url, `guess-${i}`)).response.reason);
    expect(reasons.slice(0, 20).every((r) => r === ResumeReason.unknownToken)).toBe(true);
    expect(reasons.slice(20)).toEqual(Array(4).fill(ResumeReason.tooMany));
    expect(srv.logs.has("Resume refused: too many failed attempts from 127.0.0.1")).toBe(true);
    expect((await resume(srv.url, token)).response.reason).toBe(ResumeReason.tooMany);
    // The guesser disturbed nobody: the session it aimed at is live (its connection open, not held),
    // and what it says still reaches the world.
    expect(srv.hub.clients.get(a.id)?.open).toBe(true);
    a.send(newChat("fine"));
    expect(await witness.expect("chat")).toEqual({ senderId: a.id, value: { msg: "fine" } });
  });

  test("a player who logs in again instead of resuming ends its held session: the others are told once, the login is let in", async () => {
    const srv = await serve();
    const proxy = TcpProxy.start(srv.port);
    proxies.push(proxy);
    const name = `R${++accounts}`;
    const a = await connect(proxy.url);
    expect(await register(a, name, "password")).toBe("ok");
    expect(await login(a, name, "password")).toBe("ok");
    const b = await player(srv);
    const { token } = await tokenOf(a);
    proxy.cut();
    await waitFor(() => srv.logs.has(`Client ${a.id}: Session held`), 3000, "the session to be held");
    const again = await connect(srv.url);
    expect(await login(again, name, "password")).toBe("ok");
    await waitFor(() => disconnectsFrom(b.packets, a.id).length === 1, 2000, "the held session's leave");
    expect((await resume(srv.url, token)).response.reason).toBe(ResumeReason.unknownToken);
  });

  test("a logout ends the session: its token no longer resumes anything", async () => {
    const srv = await serve();
    const proxy = TcpProxy.start(srv.port);
    proxies.push(proxy);
    const a = await player(srv, proxy.url);
    const { token } = await tokenOf(a);
    a.send({ $case: "disconnect", value: { reason: "bye" } });
    await a.expect("id");
    proxy.cut();
    await Bun.sleep(200);
    expect((await resume(srv.url, token)).response.reason).toBe(ResumeReason.unknownToken);
  });
});

describe("a restart that keeps the game", () => {
  const MAIN = [process.execPath, join(import.meta.dir, "..", "src", "main.ts")];

  test("SIGTERM with 3 players in the world: each told 1012, each resumed after the start into the same place and size; one that never asked left", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmo-restart-"));
    try {
      let srv = await startServerProcess(MAIN, ["--data-dir", dir, "--log-level", "warn", "--seed", "5"]);
      const players: TestClient[] = [];
      for (let i = 0; i < 3; i++) {
        const c = await TestClient.connect(srv.url);
        expect(await register(c, `Keeper${i}`, "password")).toBe("ok");
        expect(await login(c, `Keeper${i}`, "password")).toBe("ok");
        players.push(c);
      }
      const plain = await TestClient.connect(srv.url);
      expect(await register(plain, "Plain", "password")).toBe("ok");
      expect(await login(plain, "Plain", "password")).toBe("ok");
      const tokens = await Promise.all(players.map(async (c) => (await tokenOf(c)).token));
      // Where each player last was, as the others saw it.
      await Bun.sleep(300);
      const last = new Map<number, { x: number; y: number; radius: number }>();
      for (const p of plain.packets) if (p.msg?.$case === "player") last.set(p.msg.value.id, p.msg.value);
      const closes = players.map((c) => c.closed);
      expect(await srv.stop()).toBe(0);
      for (const close of await Promise.all(closes)) expect(close.code).toBe(1012);

      srv = await startServerProcess(MAIN, ["--data-dir", dir, "--log-level", "warn", "--seed", "6"]);
      try {
        const back: TestClient[] = [];
        for (const [i, token] of tokens.entries()) {
          const c = await TestClient.connect(srv.url);
          back.push(c);
          c.send({ $case: "resumeRequest", value: { token } });
          expect((await c.expect("resumeResponse")).value).toMatchObject({ ok: true, id: players[i]!.id });
          const me = (await c.expect("player")).value;
          const before = last.get(players[i]!.id)!;
          expect(Math.hypot(me.x - before.x, me.y - before.y)).toBeLessThanOrEqual(150 * 0.05 + 1e-9);
          expect(me.radius).toBe(before.radius);
        }
        // The resumed players see each other, and nothing of the one that never asked.
        await Bun.sleep(300);
        const seen = new Set(back[0]!.packets.flatMap((p) => (p.msg?.$case === "player" ? [p.msg.value.id] : [])));
        expect(seen.has(players[1]!.id) && seen.has(players[2]!.id)).toBe(true);
        expect(seen.has(plain.id)).toBe(false);
        // New connections get ids after every id of the last run.
        const newcomer = await TestClient.connect(srv.url);
        expect(newcomer.id).toBeGreaterThan(plain.id);
        await Promise.all([...back, newcomer].map((c) => c.close()));
      } finally {
        await srv.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test("a saved game of another game is not restored: a fresh start, said in one line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmo-restart-other-"));
    try {
      writeFileSync(join(dir, RESTART_FILE), JSON.stringify({ format: 1, game: "duel", savedAt: Date.now(), highestId: 9, rooms: { counters: {}, rooms: [] }, sessions: [] }));
      const srv = await serve({ dataDir: dir });
      expect(srv.logs.has(`is of the game duel, not this server's: starting fresh`)).toBe(true);
      expect(existsSync(join(dir, RESTART_FILE))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("bun run dev: a change under the watched folder restarts the server, and a player resumes into its room", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mmo-dev-"));
  const watched = mkdtempSync(join(tmpdir(), "mmo-dev-src-"));
  const dev = Bun.spawn([process.execPath, join(import.meta.dir, "..", "scripts", "dev.ts"), "--port", "0", "--host", "127.0.0.1", "--data-dir", dir], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, MMO_DEV_WATCH: watched },
  });
  const ports: number[] = [];
  void (async () => {
    let seen = "";
    for await (const chunk of dev.stdout) {
      seen += new TextDecoder().decode(chunk);
      for (const m of seen.matchAll(/Starting server on :(\d+)/g)) if (!ports.includes(Number(m[1]))) ports.push(Number(m[1]));
    }
  })();
  try {
    await waitFor(() => ports.length === 1, 10_000, "the server to start");
    const c = await TestClient.connect(`ws://127.0.0.1:${ports[0]}/ws`);
    expect(await register(c, "Developer", "password")).toBe("ok");
    expect(await login(c, "Developer", "password")).toBe("ok");
    const before = (await c.expect("player")).value;
    const { token } = await tokenOf(c);
    writeFileSync(join(watched, "rules.ts"), "export const SPEED = 2;\n");
    expect((await c.closed).code).toBe(1012);
    await waitFor(() => ports.length === 2, 10_000, "the server to start again");
    const again = await TestClient.connect(`ws://127.0.0.1:${ports[1]}/ws`);
    again.send({ $case: "resumeRequest", value: { token } });
    expect((await again.expect("resumeResponse")).value).toMatchObject({ ok: true, id: c.id });
    const me = (await again.expect("player")).value;
    expect([me.x, me.y, me.radius]).toEqual([before.x, before.y, before.radius]);
    await again.close();
  } finally {
    dev.kill("SIGTERM");
    await dev.exited;
    rmSync(dir, { recursive: true, force: true });
    rmSync(watched, { recursive: true, force: true });
  }
}, 30_000);

describeRedis("session resume across the nodes of a cluster", () => {
  const cluster = clusterOnRedis("mmo-resume-cluster-");
  const nodes = cluster.nodes;

  // r1 runs the world: the session moves between two other nodes, away from the owner, and to it.
  for (const [from, to, elsewhere] of [
    [1, 2, 0],
    [0, 1, 2],
    [1, 0, 2],
  ] as const) {
    test(`dropped on node r${from + 1}, resumed on r${to + 1} (r1 runs the world): the missed chat once, the same id, nobody told, one session per account`, async () => {
      if (nodes.length === 0) {
        for (const name of ["r1", "r2", "r3"]) {
          await cluster.node(name);
        }
        await waitFor(async () => (await Promise.all(nodes.map(clusterOf))).every((h) => h.nodes.length === 3 && h.rooms.world === "r1"), 8000, "every node to know the world's owner");
      }
      const [n1, n2, n3] = [nodes[elsewhere]!, nodes[from]!, nodes[to]!];
      const name = `Traveller${from}${to}`;
      const proxy = TcpProxy.start(n2.port);
      proxies.push(proxy);
      const p = await connect(proxy.url);
      expect(await register(p, name, "password")).toBe("ok");
      expect(await login(p, name, "password")).toBe("ok");
      await p.expect("player", 5000);
      const watcher = await connect(n1.url);
      expect(await register(watcher, `Watcher${from}${to}`, "password")).toBe("ok");
      expect(await login(watcher, `Watcher${from}${to}`, "password")).toBe("ok");
      await waitFor(() => watcher.packets.some((x) => x.msg?.$case === "player" && x.msg.value.id === p.id), 5000, "the watcher to see the traveller");
      const { token } = await tokenOf(p);
      proxy.cut();
      await Bun.sleep(500);
      watcher.send(newChat("while you travelled"));
      await Bun.sleep(300);

      // The reconnect lands on another node (through a balancer, say).
      const back = await connect(n3.url);
      back.send({ $case: "resumeRequest", value: { token } });
      const response = (await back.expect("resumeResponse", 8000)).value;
      expect(response).toMatchObject({ ok: true, id: p.id });
      await waitFor(() => back.packets.length >= response.replayed, 3000, "the kept packets");
      expect(chats(back.packets.slice(0, response.replayed))).toEqual(["while you travelled"]);
      await back.expect("resumeToken");
      // The world goes on for it on its new node, its chat goes out as the old client, nobody was told it left.
      back.packets.splice(0);
      await Bun.sleep(1000);
      expect(back.packets.filter((x) => x.msg?.$case === "player" && x.msg.value.id === p.id).length).toBeGreaterThanOrEqual(15);
      back.send(newChat("arrived"));
      await waitFor(() => chats(watcher.packets).includes("arrived"), 3000, "the chat after the move");
      expect(watcher.packets.find((x) => x.msg?.$case === "chat" && x.msg.value.msg === "arrived")!.senderId).toBe(p.id);
      expect(disconnectsFrom(watcher.packets, p.id)).toEqual([]);
      expect(chats(back.packets)).toEqual([]);
      // One session per account still: a login of it anywhere is refused.
      const other = await connect(n1.url);
      expect(await login(other, name, "password")).toBe("This account is already logged in");
      // And its move is whole: leaving now is told once.
      await back.close();
      await waitFor(() => disconnectsFrom(watcher.packets, p.id).length === 1, 3000, "the leave after the move");
      await Bun.sleep(300);
      expect(disconnectsFrom(watcher.packets, p.id)).toHaveLength(1);
    }, 60_000);
  }
});

describe("the close said first", () => {
  test("a client with a token gets a closing message with the code and reason of its close, just before it; a client without one does not", async () => {
    const srv = await serve({ resumeGrace: 30, maxMalformed: 1 });
    const [withToken, without] = await Promise.all([1, 2].map(() => TestClient.connect(srv.url)));
    clients.push(withToken!, without!);
    for (const [c, name] of [[withToken!, "Announced"], [without!, "Unannounced"]] as const) {
      expect(await register(c, name, "password")).toBe("ok");
      expect(await login(c, name, "password")).toBe("ok");
    }
    withToken!.send({ $case: "resumeTokenRequest", value: {} });
    await withToken!.expect("resumeToken");
    for (const c of [withToken!, without!]) for (let i = 0; i < 2; i++) c.sendRaw(new Uint8Array([0xff, 0xff]));
    const [closedWith, closedWithout] = await Promise.all([withToken!.closed, without!.closed]);
    expect(closedWith.code).toBe(1008);
    expect(closedWithout.code).toBe(1008);
    // Everything sent before a close frame has arrived by its close event: the announcement once (the
    // room's updates go on meanwhile, for the moment between it and the close).
    expect(withToken!.packets.filter((p) => p.msg?.$case === "closing").map((p) => p.msg)).toEqual([{ $case: "closing", value: { code: 1008, reason: closedWith.reason } }]);
    expect(closedWith.reason).toBe("too many malformed frames (over 1 in 10 s)");
    expect(without!.packets.some((p) => p.msg?.$case === "closing")).toBe(false);
  });
});
