// The Godot kit in a real headless Godot 4 (GODOT4_BIN) against real servers: every message case
// round-trips byte for byte both ways, a whole session runs through the client, it reconnects after
// the server restarts, and it resumes after a dropped connection with the missed chat replayed.
// Where GODOT4_BIN is not set the suite says how to run it and is skipped (CI sets it and fails then).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { PartyReason } from "../src/players/parties.ts";
import { create, createFileRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccountReason } from "../src/accounts/rules.ts";
import { duel } from "../src/games/duel/index.ts";
import { decodePacket, encodePacket, type Msg } from "../src/packets/index.ts";
import { generateCodecs } from "../src/godot/codecs.ts";
import { GodotProject } from "../src/testing/godot.ts";
import { startServerProcess } from "../src/testing/server-process.ts";
import { SAMPLE_FRAMES, SAMPLE_MESSAGES } from "../src/testing/frames.ts";
import { TcpProxy } from "../src/testing/tcp-proxy.ts";
import { describeGodot, login, radiusRumble, register, startTestServer, TestClient, waitFor, type TestServer } from "./helpers.ts";

/** A proto beyond what packets.proto uses, for the kit's codegen. */
const KIT_TEST_PROTO = `syntax = "proto3";
package kittest;
// How a player feels.
enum Mood { MOOD_UNKNOWN = 0; MOOD_HAPPY = 1; MOOD_GRUMPY = 2; }
message Outer {
  // A part of Outer.
  message Inner { string label = 1; repeated sint32 values = 2; }
  enum Size { SIZE_SMALL = 0; SIZE_LARGE = 1; }
  Inner inner = 1;
  repeated Inner inners = 2;
  map<string, int32> counts = 3;
  map<uint32, Inner> by_id = 4;
  Mood mood = 5;
  Size size = 6;
  optional int32 maybe = 7;
  optional string note = 8;
  oneof choice { uint32 number = 9; string text = 10; Inner nested = 11; }
  repeated bool flags = 12;
}
`;
const main = [process.execPath, join(import.meta.dir, "..", "src", "main.ts")];
const script = (name: string) => readFileSync(join(import.meta.dir, "godot", name), "utf8");
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** A packet's fields as the kit's from_dict takes them: proto names, the oneof's case as its field. */
function toDict(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toDict);
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const msg = (value as { msg?: { $case: string; value: unknown } }).msg;
  const out: Record<string, unknown> = {};
  for (const [key, v] of entries) {
    if (key === "msg" && msg && typeof msg === "object" && "$case" in msg) out[snake(msg.$case)] = toDict(msg.value);
    else out[snake(key)] = toDict(v);
  }
  return out;
}
const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Packets that need more than the samples give: repeated messages, negative int32s, large ids, fractions. */
const EXTRA: { senderId: number; msg: Msg }[] = [
  { senderId: 0, msg: { $case: "sporesBatch", value: { spores: [1, 2, 3].map((i) => ({ id: i, x: i * 1.5, y: -i * 2.25, radius: 10 + i / 3 })) } } },
  { senderId: 3, msg: { $case: "registerRequest", value: { username: "Ünïcode ✓", password: "password", color: -16711936 } } },
  { senderId: 2 ** 53 - 1, msg: { $case: "player", value: { id: 2 ** 53 - 1, name: "far", x: -0.5, y: 1e300, radius: 20, direction: -Math.PI, speed: 150, color: -1 } } },
  { senderId: 0, msg: { $case: "hiscoreBoard", value: { hiscores: [{ rank: 1, name: "a", score: 9 }, { rank: 2, name: "b", score: 0 }] } } },
  { senderId: 0, msg: { $case: "roundResult", value: { round: 3, winnerId: 0, hands: [{ playerId: 4, hand: 1 }, { playerId: 5, hand: 0 }] } } },
  { senderId: 7, msg: { $case: "chat", value: { msg: "" } } },
];

describeGodot("the Godot kit in Godot 4", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer(radiusRumble);
  });
  afterAll(() => srv.stop());

  test("every message case round-trips: the server's bytes decoded and re-encoded by the kit, and the kit's own encoding of the same fields, byte for byte", async () => {
    const packets = [...SAMPLE_MESSAGES.map((msg) => ({ senderId: 5, msg })), ...EXTRA];
    const frames = [...SAMPLE_FRAMES, ...packets.map((p) => encodePacket(p.senderId, p.msg))];
    // Unknown fields (a newer server's) are skipped: field 90 varint and 91 bytes appended to a chat.
    const unknown = Uint8Array.from([...encodePacket(1, { $case: "chat", value: { msg: "x" } }), 0xd0, 0x05, 0x2a, 0xda, 0x05, 0x02, 0x01, 0x02]);
    const lines = [...frames, unknown].map((f) => `bytes ${hex(f)}`);
    lines.push(...packets.map((p) => `dict ${JSON.stringify(toDict({ senderId: p.senderId, msg: p.msg }))}`));
    const project = GodotProject.create({ "roundtrip.gd": script("roundtrip.gd"), "frames.txt": `${lines.join("\n")}\n` }, "roundtrip.gd");
    try {
      const run = project.run();
      await run.line(/^END$/, 30_000);
      expect(await run.exited).toBe(0);
      const out = run.lines.filter((l) => l.startsWith("OUT ")).map((l) => l.slice(4));
      expect(out).toHaveLength(lines.length);
      const expected = [
        ...[...frames, unknown].map((f) => hex(encodePacket(decodePacket(f).senderId, decodePacket(f).msg!))),
        ...packets.map((p) => hex(encodePacket(p.senderId, p.msg))),
      ];
      for (let i = 0; i < expected.length; i++) expect(`${i}: ${out[i]}`).toBe(`${i}: ${expected[i]}`);
      // Duel's messages are among them.
      expect(SAMPLE_MESSAGES.map((m) => m.$case)).toContain("duelThrow");
    } finally {
      project.destroy();
    }
  }, 60_000);

  test("codegen beyond packets.proto: nested messages, maps, enums, proto3 optional and a scalar oneof parse and round-trip byte for byte", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmo-codegen-"));
    try {
      writeFileSync(join(dir, "kittest.proto"), KIT_TEST_PROTO);
      const built = Bun.spawnSync([join(import.meta.dir, "..", "node_modules", ".bin", "buf"), "build", dir, "-o", join(dir, "kittest.binpb")], { stderr: "pipe" });
      expect(built.exitCode, built.stderr.toString()).toBe(0);
      const set = fromBinary(FileDescriptorSetSchema, readFileSync(join(dir, "kittest.binpb")));
      const file = set.file.find((f) => f.name === "kittest.proto")!;
      const Outer = createFileRegistry(set).getMessage("kittest.Outer")!;
      const samples = [
        {},
        { inner: { label: "one", values: [-1, 0, 70000] }, mood: 2, size: 1 },
        { inners: [{ label: "a" }, { values: [5] }], counts: { b: 2, a: 0, "ü": -3 }, byId: { 7: { label: "seven" }, 1: {} } },
        { maybe: 0, note: "", choice: { case: "number", value: 0 } },
        { maybe: -5, choice: { case: "text", value: "hi" } },
        { choice: { case: "nested", value: { label: "deep" } }, flags: [true, false] },
      ].map((init) => Buffer.from(toBinary(Outer, create(Outer, init as never))).toString("hex"));
      const project = GodotProject.create({ "codegen.gd": script("codegen.gd"), "kittest.gd": generateCodecs("test", "test", file, "KitTest"), "samples.txt": `${samples.map((hex) => `bytes ${hex}`).join("\n")}\n` }, "codegen.gd");
      try {
        const run = project.run();
        await run.line(/^END$/, 30_000);
        expect(await run.exited).toBe(0);
        const out = run.lines.filter((l) => l.startsWith("OUT ")).map((l) => l.slice(4));
        expect(out).toEqual(samples.map((hex) => `${hex} ${hex}`));
        expect(run.lines).toContain("ENUM 2 1");
      } finally {
        project.destroy();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("a whole session through the kit: id, lobby chat, register, login, the world at 20 Hz, a session token", async () => {
    const watcher = await TestClient.connect(srv.url);
    const project = GodotProject.create({ "session.gd": script("session.gd") }, "session.gd");
    try {
      const run = project.run([`--url=${srv.url}`, "--name=KitPlayer"]);
      const id = Number((await run.line(/^ID \d+/)).split(" ")[1]);
      const chat = await watcher.expect("chat");
      expect(chat).toEqual({ senderId: id, value: { msg: "hello from the kit" } });
      expect(await run.line(/^IN_WORLD/, 20_000)).toBe("IN_WORLD -16711936");
      const result = JSON.parse((await run.line(/^RESULT /, 20_000)).slice(7)) as { updates: number; token: boolean };
      expect(result.updates).toBeGreaterThanOrEqual(36);
      expect(result.token).toBe(true);
      expect(await run.exited).toBe(0);
      expect(srv.logs.has(/User "kitplayer" registered/)).toBe(true);
    } finally {
      project.destroy();
      await watcher.close();
    }
  }, 60_000);

  test("a restart's 1012 and its reason reach the kit (never a cut, -1, nor Godot's 1002 for a code it does not know), and the kit resumes its session on the new start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmo-godot-restart-"));
    let srv = await startServerProcess(main, ["--data-dir", dir]);
    const port = srv.port;
    const project = GodotProject.create({ "reconnect.gd": script("reconnect.gd") }, "reconnect.gd");
    try {
      const run = project.run([`ws://127.0.0.1:${port}/ws`, "Restarted"]);
      const id = Number((await run.line(/^CONNECTED \d+$/)).split(" ")[1]);
      await run.line(/^TOKEN$/, 20_000);
      await srv.stop();
      // The server closes with 1012 and waits for the close frame to be read before it cuts what is
      // left. Godot 4.4's WebSocket library (wslay) takes 1012-1014, registered after RFC 6455, for
      // invalid codes and reports 1002 "Protocol error"; the server's closing message, just before the
      // close, tells the kit the code and the reason.
      expect(await run.line(/^DISCONNECTED /)).toBe("DISCONNECTED 1012 server restarting: resume your session");
      srv = await startServerProcess(main, ["--data-dir", dir, "--port", String(port)]);
      expect(await run.line(/^RESUMED /, 20_000)).toBe(`RESUMED ${id}`);
      expect(await run.exited).toBe(0);
      // The states in the order things happened: the close, then the retries (as many as the restart
      // took), then the connection that resumed.
      const told = run.lines.filter((l) => /^(STATE|DISCONNECTED|RECONNECTING|CONNECTED) /.test(l)).map((l) => l.replace(/ -?\d+.*$/, ""));
      const squeezed = told.join(",").replace(/(,STATE RECONNECTING,RECONNECTING,STATE CONNECTING(,STATE DISCONNECTED)?)+/g, ",RETRY");
      expect(squeezed).toBe("STATE CONNECTING,STATE OPEN,CONNECTED,STATE DISCONNECTED,DISCONNECTED,RETRY,STATE OPEN,CONNECTED");
    } finally {
      project.destroy();
      await srv.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("one message larger than Godot's default inbound buffer (64 KiB) reaches the game whole: the kit's buffer holds what the server may send", async () => {
    const big = await startTestServer(radiusRumble, { maxChatLength: 200_000, maxPayload: 256 * 1024 });
    const talker = await TestClient.connect(big.url);
    expect(await register(talker, "BigTalker", "a password")).toBe("ok");
    expect(await login(talker, "BigTalker", "a password")).toBe("ok");
    const project = GodotProject.create({ "big.gd": script("big.gd") }, "big.gd");
    try {
      const run = project.run([big.url, "BigListener"]);
      await run.line(/^READY$/, 20_000);
      talker.send({ $case: "chat", value: { msg: "x".repeat(100_000) } });
      expect(await run.line(/^BIG /, 20_000)).toBe("BIG 100000");
      expect(await run.exited).toBe(0);
    } finally {
      project.destroy();
      await talker.close();
      await big.stop();
    }
  }, 60_000);

  test("persist_token: a session kept across two runs of the game (its token in user://) resumes in the second", async () => {
    const project = GodotProject.create({ "persist.gd": script("persist.gd") }, "persist.gd");
    try {
      const first = project.run([srv.url, "Persisted", "first"]);
      const id = Number((await first.line(/^TOKEN \d+$/, 20_000)).split(" ")[1]);
      expect(await first.exited).toBe(0);
      await waitFor(() => srv.logs.has(`Client ${id}: Session held`), 5000, "the session to be held");
      const second = project.run([srv.url, "Persisted", "second"]);
      expect(await second.line(/^RESUMED |^RESUME_FAILED /, 20_000)).toBe(`RESUMED ${id}`);
      expect(await second.exited).toBe(0);
    } finally {
      project.destroy();
    }
  }, 60_000);

  test("a guest through the kit: login_device makes an account at its first run, links a username and password, and the same device finds it at the next", async () => {
    const project = GodotProject.create({ "guest.gd": script("guest.gd") }, "guest.gd");
    try {
      const first = project.run([srv.url, "GodotGuest"]);
      expect(await first.line(/^CREATED /, 20_000)).toBe("CREATED true");
      const made = await first.line(/^GUEST /);
      expect(made).toMatch(/^GUEST true Guest-[2-9A-HJ-NP-Z]{6} 32$/);
      expect(await first.line(/^LINKED /)).toBe("LINKED true ");
      expect(await first.exited).toBe(0);
      const second = project.run([srv.url, "GodotGuest"]);
      expect(await second.line(/^CREATED /, 20_000)).toBe("CREATED false");
      expect(await second.line(/^GUEST /)).toBe(made);
      expect(await second.line(/^LINKED /)).toBe(`LINKED false ${AccountReason.hasPassword}`);
      expect(await second.exited).toBe(0);
      // The linked name and password reach the guest's account too.
      const byPassword = await TestClient.connect(srv.url);
      expect(await login(byPassword, "GodotGuest", "a password")).toBe("ok");
      expect((await byPassword.expect("player")).value.name).toBe(made.split(" ")[2]!);
      await byPassword.close();
    } finally {
      project.destroy();
    }
  }, 60_000);

  test("friends and a party through the kit: a request by name and its acceptance between two kit clients, then an invitation into a party, accepted", async () => {
    const project = GodotProject.create({ "friends.gd": script("friends.gd") }, "friends.gd");
    try {
      const run = project.run([srv.url]);
      expect(await run.line(/^LOGINS /, 20_000)).toBe("LOGINS true true");
      expect(await run.line(/^ASKED /)).toBe("ASKED true ");
      expect(await run.line(/^RECEIVED/)).toBe("RECEIVED");
      expect(await run.line(/^ACCEPTED /)).toBe("ACCEPTED true ");
      expect(await run.line(/^FRIEND /)).toBe("FRIEND friend true");
      expect(await run.line(/^CREATED /)).toBe("CREATED true");
      expect(await run.line(/^INVITED /)).toBe("INVITED true ");
      expect(await run.line(/^JOINED /)).toBe("JOINED true ");
      expect(await run.line(/^PARTY /)).toBe("PARTY 2");
      expect(await run.line(/^REFUSED /)).toBe(`REFUSED false ${PartyReason.notLeader}`);
      expect(await run.exited).toBe(0);
    } finally {
      project.destroy();
    }
  }, 60_000);

  test("an upgrade refused with 429 ends the kit's reconnection: it reads the status Godot's WebSocket does not tell, and gives up with the server's reason", async () => {
    const full = await startTestServer(radiusRumble, { maxClientsPerIp: 1 });
    const holder = await TestClient.connect(full.url);
    const project = GodotProject.create({ "refused.gd": script("refused.gd") }, "refused.gd");
    try {
      const run = project.run([full.url]);
      expect(await run.line(/^GAVE_UP /, 20_000)).toMatch(/^GAVE_UP 429 \S/);
      expect(await run.line(/^AFTER /)).toBe("AFTER 0 DISCONNECTED");
      expect(await run.exited).toBe(0);
      expect(run.lines.filter((l) => l.startsWith("RECONNECTING "))).toEqual([]);
    } finally {
      project.destroy();
      await holder.close();
      await full.stop();
    }
  }, 60_000);

  test("a server that takes each connection and closes it at once does not reset the kit's backoff: each wait doubles", async () => {
    let opened = 0;
    const busy = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req, server) => (server.upgrade(req) ? undefined : new Response("no", { status: 400 })),
      websocket: {
        open(ws) {
          opened++;
          ws.close(1011, "busy");
        },
        message() {},
      },
    });
    const project = GodotProject.create({ "backoff.gd": script("backoff.gd") }, "backoff.gd");
    try {
      const run = project.run([`ws://127.0.0.1:${busy.port}/ws`]);
      expect(await run.exited).toBe(0);
      const delays = run.lines.filter((l) => l.startsWith("RECONNECTING ")).map((l) => Number(l.split(" ")[2]));
      expect(delays).toHaveLength(5);
      // 0.1 s doubling, each ±25%: attempt n waits 0.1 × 2^(n-1) × [0.75, 1.25].
      for (const [i, delay] of delays.entries()) {
        expect(delay).toBeGreaterThanOrEqual(0.1 * 2 ** i * 0.75 - 1e-6);
        expect(delay).toBeLessThanOrEqual(0.1 * 2 ** i * 1.25 + 1e-6);
      }
      expect(opened).toBeGreaterThanOrEqual(4);
    } finally {
      project.destroy();
      busy.stop(true);
    }
  }, 60_000);

  test("a policy close (1008) ends the kit's reconnection: gave_up, and no new connection", async () => {
    const project = GodotProject.create({ "policy.gd": script("policy.gd") }, "policy.gd");
    try {
      const run = project.run([srv.url]);
      expect(await run.line(/^GAVE_UP /)).toBe("GAVE_UP 1008 too many malformed frames (over 20 in 10 s)");
      expect(await run.line(/^AFTER /)).toBe("AFTER 1 true");
      expect(await run.exited).toBe(0);
    } finally {
      project.destroy();
    }
  }, 30_000);

  test("a resume that replays more than 256 KiB in one burst reaches the game whole", async () => {
    // A session keeps up to 512 KiB here, so that a whole 256 KiB of chat fits with the world's events.
    const big = await startTestServer(radiusRumble, { maxChatLength: 20_000, resumeBuffer: 512 * 1024 });
    const proxy = TcpProxy.start(big.port);
    // Players in the world: world chat is kept for a held session of the world.
    const talkers = await Promise.all([0, 1, 2].map(() => TestClient.connect(big.url)));
    for (const [i, talker] of talkers.entries()) {
      expect(await register(talker, `Talker${i}`, "a password")).toBe("ok");
      expect(await login(talker, `Talker${i}`, "a password")).toBe("ok");
    }
    const project = GodotProject.create({ "replay.gd": script("replay.gd") }, "replay.gd");
    try {
      const run = project.run([proxy.url, "Replayed"]);
      await run.line(/^TOKEN$/, 20_000);
      proxy.partition();
      await waitFor(() => big.logs.has("Session held"), 5000, "the session to be held");
      // 26 lines of 10,400 characters: 270,400 bytes of chat, more than 256 KiB, replayed in one burst.
      for (let i = 0; i < 26; i++) talkers[i % 3]!.send({ $case: "chat", value: { msg: String.fromCharCode(97 + i).repeat(10_400) } });
      await waitFor(() => talkers.every((t) => t.packets.filter((p) => p.msg?.$case === "chat").length >= 17), 10_000, "the chat to go round");
      proxy.heal();
      // The chat, and the world's events of the time away (spores growing back).
      expect(Number((await run.line(/^RESUMED /, 20_000)).split(" ")[1])).toBeGreaterThanOrEqual(26);
      expect(await run.line(/^REPLAYED /)).toBe("REPLAYED 26 270400");
      expect(await run.exited).toBe(0);
    } finally {
      project.destroy();
      proxy.stop();
      for (const t of talkers) await t.close();
      await big.stop();
    }
  }, 60_000);

  test("the kit resumes after a dropped connection: the missed chat replayed once, the same id, nobody told", async () => {
    const proxy = TcpProxy.start(srv.port);
    const other = await TestClient.connect(srv.url);
    expect(await register(other, "KitWatcher", "password")).toBe("ok");
    expect(await login(other, "KitWatcher", "password")).toBe("ok");
    const project = GodotProject.create({ "resume.gd": script("resume.gd") }, "resume.gd");
    try {
      const run = project.run([proxy.url, "KitResumer"]);
      const id = Number((await run.line(/^CONNECTED \d+/)).split(" ")[1]);
      await run.line(/^TOKEN$/, 20_000);
      proxy.cut();
      await waitFor(() => srv.logs.has(`Client ${id}: Session held`), 5000, "the session to be held");
      other.send({ $case: "chat", value: { msg: "missed" } });
      expect(await run.line(/^RESUMED /, 20_000)).toMatch(new RegExp(`^RESUMED ${id} [1-9]`));
      await run.line(/^CHAT \d+ missed$/);
      other.send({ $case: "chat", value: { msg: "last" } });
      expect(await run.exited).toBe(0);
      expect(run.lines.filter((l) => l.startsWith("CHAT ")).map((l) => l.split(" ").slice(2).join(" "))).toEqual(["missed", "last"]);
      expect(other.packets.filter((p) => p.msg?.$case === "disconnect" && p.senderId === id)).toHaveLength(1); // its close(1000) at the end, only
    } finally {
      project.destroy();
      proxy.stop();
      await other.close();
    }
  }, 60_000);

  test("the login flow awaits: results matched to their requests, lifecycle signals, and the kit's own token request never reaching the game's deny handler", async () => {
    // Resumption off: the token request the kit sends after a login is refused, which only the kit sees.
    const off = await startTestServer(radiusRumble, { resumeGrace: 0 });
    const project = GodotProject.create({ "login.gd": script("login.gd") }, "login.gd");
    try {
      const run = project.run([off.url, "Awaiter"]);
      await run.line(/^END$/, 30_000);
      expect(await run.exited).toBe(0);
      const said = run.lines.filter((l) => /^[A-Z_]+ /.test(l) && !l.startsWith("WARNING"));
      expect(said).toEqual([
        "GAME_DENY Incorrect username or password",
        "EARLY false Incorrect username or password",
        "REGISTER true",
        "GAME_DENY User already exists",
        "REGISTER_AGAIN false User already exists",
        "GAME_DENY Invalid password: too short (at least 8 characters)",
        "SHORT false Invalid password: too short (at least 8 characters)",
        "GAME_DENY Incorrect username or password",
        "WRONG false Incorrect username or password",
        "LOGGED_IN Awaiter",
        "LOGIN true ",
        "LOGGED_OUT logout",
        "WORLD_RESET logout",
        "SECOND false A login or registration is already waiting for its answer",
        "LOGGED_IN Awaiter",
        "TOKEN false",
        "LOGGED_OUT closed",
        "WORLD_RESET closed",
      ]);
      expect(run.lines.some((l) => l.includes("no session token: Session resume is off on this server"))).toBe(true);
    } finally {
      project.destroy();
      await off.stop();
    }
  }, 60_000);

  test("MmoWorld: two kit clients see each other's nodes, move smoothly and predicted, lose them on a logout, and a failed resume leaves no stale node", async () => {
    // A small world, and views of 4R, so that the two players see each other wherever they spawn.
    const world = await startTestServer(radiusRumble, { worldSize: 2000, resumeGrace: 1 });
    const proxy = TcpProxy.start(world.port);
    const project = GodotProject.create({ "world.gd": script("world.gd") }, "world.gd");
    try {
      const run = project.run([proxy.url, world.url, "WorldA", "WorldB"]);
      expect(await run.line(/^SEES /, 30_000)).toMatch(/^SEES true true \d+ \d+$/);
      const motion = JSON.parse((await run.line(/^MOTION /, 30_000)).slice(7)) as Record<string, number>;
      console.log(`MmoWorld in Godot: ${JSON.stringify(motion)}`);
      // Other entities: behind the newest frame by at most the delay and a tick; gliding, never still
      // while they move, never jumping; the own entity: within 3 ticks' motion of the server's.
      expect(motion.behindMax).toBeLessThanOrEqual(motion.allowed! + 1);
      expect(motion.still).toBeLessThanOrEqual(motion.frames! / 10);
      expect(motion.stepMax).toBeLessThan(150 * 0.1);
      expect(motion.ownErrorMax).toBeLessThan(150 * 0.15);
      expect(await run.line(/^GONE /)).toBe("GONE true false");
      await run.line(/^READY_TO_CUT$/);
      proxy.partition();
      await waitFor(() => world.logs.has("Held session ended"), 10_000, "the held session to end");
      proxy.heal();
      expect(await run.line(/^RESUME_FAILED /, 30_000)).toMatch(/^RESUME_FAILED 0 0 /);
      expect(Number((await run.line(/^BACK \d+$/, 30_000)).split(" ")[1])).toBeGreaterThan(1);
      expect(await run.exited).toBe(0);
    } finally {
      project.destroy();
      proxy.stop();
      await world.stop();
    }
  }, 90_000);

  test("MmoWorld as its view moves: entities come into view ahead, leave it behind, and a node that left is gone at once", async () => {
    const project = GodotProject.create({ "view.gd": script("view.gd") }, "view.gd");
    try {
      const run = project.run([srv.url, "Viewer"]);
      const view = JSON.parse((await run.line(/^VIEW /, 30_000)).slice(5)) as Record<string, number>;
      console.log(`MmoWorld, a view of 600 units moving for 4 s: ${JSON.stringify(view)}`);
      expect(view.first).toBeGreaterThan(1);
      expect(view.entered).toBeGreaterThan(0);
      expect(view.left).toBeGreaterThan(0);
      expect(view.stale).toBe(0);
      expect(await run.exited).toBe(0);
    } finally {
      project.destroy();
    }
  }, 60_000);

  test("the kit's example scene runs as it is against a server of another game too", async () => {
    const duelServer = await startTestServer(duel);
    const project = GodotProject.create({ "noop.gd": "extends Node\n" }, "noop.gd");
    try {
      const run = project.run([`--url=${duelServer.url}`, "--updates=1"], "res://addons/mmo_server/example/example.tscn");
      await run.line(/^example: connected, my id is \d+$/);
      await run.line(/^example: registered godot\d+$/);
      await run.line(/^example: logged in/);
      // Duel has no world of entities: the example says so instead of showing nothing.
      await run.line(/^example: this server's game shows no world here \(Not in a world/);
      run.kill();
      // Nothing listening: it says so, and keeps trying.
      const spare = await startTestServer(duel);
      const closed = spare.port;
      await spare.stop();
      const lost = project.run([`--url=ws://127.0.0.1:${closed}/ws`], "res://addons/mmo_server/example/example.tscn");
      await lost.line(new RegExp(`^example: cannot connect to ws://127.0.0.1:${closed}/ws \\(attempt 1\\): is the server running\\?`));
      lost.kill();
    } finally {
      project.destroy();
      await duelServer.stop();
    }
  }, 60_000);
});
