// `bun run bench:players`: players among themselves on a real server process (the Duel game, whose
// logged-in players wait quietly), SQLite and PostgreSQL side by side in one run, each phase with the
// lobby canary beside it (a pair chatting every 20 ms), quiet first:
// 1. friends lists of --friends friends read by --readers players, --list-rate a second in all;
// 2. presence: a player with --friends online friends logs in again and again (20 times): the time
//    from its login to each friend being told, p99 over every friend told;
// 3. a channel of --members members, one of them saying --rate lines a second for --seconds: the
//    latency of every delivery, p99, and what never arrived;
// 4. history: pages of 50 lines of that channel read by the readers, --history-rate a second in all.
// Beside each phase: the server process's CPU over it (PostgreSQL's own processes not included), and
// how long, a second, the server's main thread and the canary's were runnable but waited for a CPU
// (Linux): what of the canary's delay is the machine's other work rather than the server's own.
// Target: the friends lists offered all answered (≥ 10,000 a second by default), every friend told,
// no line lost, and the canary's chat p99 within 1.5× its quiet figure in every phase, on both stores.
// Options: --friends 200 --members 1000 --readers 10 --rate 10 --seconds 10 --list-rate 10000 --history-rate 2000
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, setPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { errorText } from "../src/log.ts";
import { decodePacket, type Msg } from "../src/packets/index.ts";
import { loginDevice, TestClient } from "../src/testing/client.ts";
import { Histogram } from "../src/testing/histogram.ts";
import { canary, type CanaryFigures } from "../src/testing/load/canary.ts";
import { cpuSeconds, mainThreadWaitedMs } from "../src/testing/load/coordinator.ts";
import { round } from "../src/testing/load/workers.ts";
import { postgresUnavailable, TestPostgres } from "../src/testing/postgres.ts";
import { startServerProcess, type ServerProcess } from "../src/testing/server-process.ts";
import { gitCommit, printRecord } from "../src/testing/record.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    friends: { type: "string", default: "200" },
    members: { type: "string", default: "1000" },
    readers: { type: "string", default: "10" },
    rate: { type: "string", default: "10" },
    seconds: { type: "string", default: "10" },
    "list-rate": { type: "string", default: "10000" },
    "history-rate": { type: "string", default: "2000" },
    // The canary's own process (it must not share the load generator's event loop): the server to watch.
    "canary-url": { type: "string" },
    "canary-port": { type: "string" },
  },
});
const FRIENDS = Number(values.friends);
const MEMBERS = Math.max(Number(values.members), FRIENDS);
const READERS = Number(values.readers);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const LIST_RATE = Number(values["list-rate"]);
const HISTORY_RATE = Number(values["history-rate"]);
const LOGINS = 20;
const CHANNEL = "bench";
const SERVER = [process.execPath, join(import.meta.dir, "..", "src", "main.ts")];

if (values["canary-url"]) {
  console.log("READY");
  const [waitedBefore, startedAt] = [mainThreadWaitedMs(process.pid), performance.now()];
  const figures = await canary({ url: values["canary-url"], port: Number(values["canary-port"]) }, undefined, Number(values.seconds), () => []);
  const canaryWaitMsPerSec = (mainThreadWaitedMs(process.pid) - waitedBefore) / ((performance.now() - startedAt) / 1000);
  console.log(JSON.stringify({ ...figures, canaryWaitMsPerSec }));
  process.exit(0);
}

/**
 * A phase's canary, and how busy the server was meanwhile (its CPU time over the phase's wall time);
 * the server's main thread's and the canary's time waiting for a CPU, ms a second.
 */
type PhaseCanary = CanaryFigures & { serverCpuPct: number; serverWaitMsPerSec: number; canaryWaitMsPerSec: number };

/**
 * The canary in a process of its own (a client in the load generator's process would measure that
 * process's own delays), for SECONDS, beside the load `load(until)` starts here.
 */
async function canaryBeside(srv: ServerProcess, load: (until: number) => Promise<unknown>[]): Promise<PhaseCanary> {
  const proc = Bun.spawn([process.execPath, import.meta.path, "--canary-url", srv.url, "--canary-port", String(srv.port), "--seconds", String(SECONDS)], { stdout: "pipe", stderr: "inherit" });
  usualPriority(proc.pid);
  const lines: string[] = [];
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const reading = (async () => {
    let rest = "";
    for await (const chunk of proc.stdout) {
      rest += new TextDecoder().decode(chunk);
      const parts = rest.split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        if (line === "READY") ready();
        else lines.push(line);
      }
    }
  })();
  await Promise.race([isReady, proc.exited]);
  const [cpuBefore, waitedBefore, startedAt] = [cpuSeconds(srv.proc.pid), mainThreadWaitedMs(srv.proc.pid), performance.now()];
  await Promise.all(load(performance.now() + SECONDS * 1000));
  if ((await proc.exited) !== 0) throw new Error("the canary's process failed");
  const seconds = (performance.now() - startedAt) / 1000;
  const serverCpuPct = (100 * (cpuSeconds(srv.proc.pid) - cpuBefore)) / seconds;
  const serverWaitMsPerSec = (mainThreadWaitedMs(srv.proc.pid) - waitedBefore) / seconds;
  await reading;
  const figures = JSON.parse(lines.at(-1)!) as CanaryFigures & { canaryWaitMsPerSec: number };
  return { ...figures, serverCpuPct: Math.round(serverCpuPct), serverWaitMsPerSec: round(serverWaitMsPerSec, 1), canaryWaitMsPerSec: round(figures.canaryWaitMsPerSec, 1) };
}

/**
 * The load generator's clients stand for players on other machines: this process runs at a lower
 * priority (nice 10) than the server, PostgreSQL and the canary, so that on a 2-core machine the
 * canary measures the server, not the generator's own use of the cores. Giving a spawned process the
 * usual priority back takes root; without it everything runs at nice 10 (the table says which).
 */
const ROOT_USER = process.getuid?.() === 0;

function lowerOwnPriority(): string {
  setPriority(10);
  return ROOT_USER ? "the load generator at nice 10; the server, PostgreSQL and the canary at 0" : "everything at nice 10 (not root: the server and the canary could not be given the usual priority back)";
}

function usualPriority(pid: number): void {
  if (ROOT_USER) setPriority(pid, 0);
}

interface Player {
  c: TestClient;
  userId: number;
  device: string;
}

interface Offered {
  perSecond: number;
  offered: number;
  unanswered: number;
  p50: number;
  p99: number;
  canary: PhaseCanary;
}

interface StoreFigures {
  store: string;
  quiet: PhaseCanary;
  lists: Offered;
  presence: { p50: number; p99: number; told: number; expected: number; canary: PhaseCanary };
  channel: { p50: number; p99: number; delivered: number; lost: number; canary: PhaseCanary };
  history: Offered;
}

async function deviceLogin(url: string, device: string): Promise<Player> {
  const c = await TestClient.connect(url);
  const answer = await loginDevice(c, device, 30_000);
  if (!answer.ok) throw new Error(`a device login was refused: ${answer.reason}`);
  return { c, userId: answer.userId, device };
}

/** Logs in `count` new devices, `batch` at a time. */
async function players(url: string, count: number, prefix: string, batch = 100): Promise<Player[]> {
  const made: Player[] = [];
  for (let i = 0; i < count; i += batch) {
    made.push(...(await Promise.all(Array.from({ length: Math.min(batch, count - i) }, (_, j) => deviceLogin(url, `${prefix}-${i + j}-${crypto.randomUUID()}`)))));
  }
  return made;
}

/** Sends `count` requests and waits for their `answer`s (in order); throws on a refusal. */
async function answered(p: Player, msgs: Msg[], answer: "friendResponse" | "channelResponse"): Promise<void> {
  for (const msg of msgs) p.c.send(msg);
  for (let i = 0; i < msgs.length; i++) {
    const { value } = await p.c.expect(answer, 30_000);
    if (!value.ok) throw new Error(`refused: ${value.reason}`);
  }
  p.c.take(answer);
}

/** The oneof number of a packet's message, read off its bytes (sender_id first, then the case's tag), without decoding it. */
function caseNumber(bytes: Uint8Array): number {
  let i = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; i < bytes.length; shift += 7) {
      const b = bytes[i++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    return value;
  };
  let tag = varint();
  if (tag === 0x08) {
    varint();
    tag = varint();
  }
  return Math.floor(tag / 8);
}

/**
 * Sends `rate` requests a second, spread over the readers, until `until` (open loop: the rate does not
 * wait for the answers); each answer's latency, and how many came.
 */
async function offered(readers: Player[], request: Msg, answer: "friendsList" | "channelHistory", rate: number, until: number, check: (p: ReturnType<typeof decodePacket>) => boolean) {
  const answerNumber = answer === "friendsList" ? 143 : 155;
  const latency = new Histogram();
  let done = 0;
  let sent = 0;
  let wrong = 0;
  const waiting = readers.map(() => [] as number[]);
  const stops = readers.map((r, i) => {
    const onMessage = (ev: MessageEvent) => {
      const bytes = new Uint8Array(ev.data as ArrayBuffer);
      if (caseNumber(bytes) !== answerNumber) return;
      latency.record(performance.now() - waiting[i]!.shift()!);
      // The load generator shares the machine: every 16th answer is decoded whole and checked.
      if (done++ % 16 === 0 && !check(decodePacket(bytes))) wrong++;
    };
    r.c.ws.addEventListener("message", onMessage);
    return () => r.c.ws.removeEventListener("message", onMessage);
  });
  for (const r of readers) r.c.keeping = false;
  const start = performance.now();
  while (performance.now() < until) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; sent < due; sent++) {
      const i = sent % readers.length;
      waiting[i]!.push(performance.now());
      readers[i]!.c.send(request);
    }
    await Bun.sleep(2);
  }
  const elapsed = (performance.now() - start) / 1000;
  const deadline = performance.now() + 5000;
  while (done < sent && performance.now() < deadline) await Bun.sleep(10);
  for (const stop of stops) stop();
  for (const r of readers) r.c.keeping = true;
  if (wrong > 0) throw new Error(`${wrong} answers of ${answer} were not what was asked`);
  for (const r of readers) r.c.packets.length = 0;
  return { perSecond: done / elapsed, offered: sent / elapsed, unanswered: sent - done, p50: latency.percentile(0.5), p99: latency.percentile(0.99) };
}

async function measureStore(store: string, databaseUrl: string | undefined): Promise<StoreFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), "mmo-bench-players-"));
  const args = ["--game", "duel", "--data-dir", dataDir, "--log-level", "warn", "--players-rate", "1000000", "--rate-limit", "1000000", "--chat-rate", "10000", "--max-clients-per-ip", "0", "--max-clients", "0", "--register-burst", "1000000", "--register-per-minute", "1000000"];
  if (databaseUrl) args.push("--database-url", databaseUrl);
  const srv: ServerProcess = await startServerProcess(SERVER, args);
  usualPriority(srv.proc.pid);
  const everyone: Player[] = [];
  try {
    const quiet = await canaryBeside(srv, () => []);
    let t = performance.now();
    const members = await players(srv.url, MEMBERS, `${store}-member`);
    const readers = await players(srv.url, READERS, `${store}-reader`);
    everyone.push(...members, ...readers);
    const friends = members.slice(0, FRIENDS);
    // Each reader asks each friend, each friend accepts each reader: 50 at a time (100 may wait for an answer).
    for (let i = 0; i < friends.length; i += 50) {
      const chunk = friends.slice(i, i + 50);
      await Promise.all(readers.map((r) => answered(r, chunk.map((f) => ({ $case: "friendRequest", value: { action: "add", userId: f.userId, name: "" } })), "friendResponse")));
      await Promise.all(chunk.map((f) => answered(f, readers.map((r) => ({ $case: "friendRequest", value: { action: "accept", userId: r.userId, name: "" } })), "friendResponse")));
    }
    for (const p of everyone) p.c.packets.length = 0;
    console.error(`${store}: ${everyone.length} players logged in, ${READERS} of them with ${FRIENDS} friends, in ${Math.round(performance.now() - t)} ms`);

    // 1. Friends lists, offered at LIST_RATE a second.
    let lists!: Omit<StoreFigures["lists"], "canary">;
    const listsCanary = await canaryBeside(srv, (until) => [
      (async () => {
        lists = await offered(readers, { $case: "friendsRequest", value: {} }, "friendsList", LIST_RATE, until, (p) => p.msg?.$case === "friendsList" && p.msg.value.friends.length === FRIENDS);
      })(),
    ]);

    console.error(`${store}: friends lists ${Math.round(lists.perSecond)}/s of ${Math.round(lists.offered)} offered, p99 ${lists.p99.toFixed(1)} ms, canary p99 ${listsCanary.chatP99.toFixed(1)} ms`);
    for (const r of readers) void r.c.closed.then((e) => console.error(`reader ${r.userId} closed: ${e.code} ${e.reason}`));
    for (const m of members) void m.c.closed.then((e) => e.code !== 1000 && console.error(`member ${m.userId} closed: ${e.code} ${e.reason}`));

    // 2. Presence: reader 0 logs in again and again; each friend's friend_update (online) is timed.
    const presence = new Histogram();
    let told = 0;
    const hub = readers[0]!;
    let loggedInAt = 0;
    const listeners = friends.map((f) => {
      const onMessage = (ev: MessageEvent) => {
        const msg = decodePacket(new Uint8Array(ev.data as ArrayBuffer)).msg;
        if (msg?.$case === "friendUpdate" && msg.value.friend?.userId === hub.userId && msg.value.friend.online) {
          presence.record(performance.now() - loggedInAt);
          told++;
        }
      };
      f.c.ws.addEventListener("message", onMessage);
      return () => f.c.ws.removeEventListener("message", onMessage);
    });
    let current = hub;
    const presenceCanary = await canaryBeside(srv, () => [
      (async () => {
        for (let i = 0; i < LOGINS; i++) {
          await current.c.close();
          await Bun.sleep(100);
          const before = told;
          const c = await TestClient.connect(srv.url);
          loggedInAt = performance.now();
          c.send({ $case: "deviceLoginRequest", value: { deviceId: hub.device, color: 0 } });
          current = { ...hub, c };
          const deadline = performance.now() + 5000;
          while (told - before < FRIENDS && performance.now() < deadline) await Bun.sleep(5);
        }
      })(),
    ]);
    for (const stop of listeners) stop();
    readers[0] = current;
    everyone.push(current);

    // 3. A channel of every member: one says RATE lines a second; every delivery is timed.
    const speakers = [...members, ...readers];
    await Promise.all(
      speakers.map((p) =>
        answered(p, [{ $case: "channelRequest", value: { action: "join", channel: CHANNEL } }], "channelResponse").catch((err: unknown) => {
          throw new Error(`player ${p.userId} could not join the channel: ${errorText(err)}`);
        }),
      ),
    );
    for (const p of everyone) p.c.packets.length = 0;
    const lines = new Histogram();
    let delivered = 0;
    const channelListeners = speakers.map((p) => {
      const onMessage = (ev: MessageEvent) => {
        const msg = decodePacket(new Uint8Array(ev.data as ArrayBuffer)).msg;
        if (msg?.$case !== "channelLine") return;
        lines.record(performance.now() - Number(msg.value.text.split(" ")[1]));
        delivered++;
      };
      p.c.ws.addEventListener("message", onMessage);
      p.c.keeping = false;
      return () => {
        p.c.ws.removeEventListener("message", onMessage);
        p.c.keeping = true;
      };
    });
    let said = 0;
    const channelCanary = await canaryBeside(srv, (until) => [
      (async () => {
        const start = performance.now();
        for (let i = 0; performance.now() < until; i++) {
          const due = start + (i * 1000) / RATE;
          if (due > performance.now()) await Bun.sleep(due - performance.now());
          members[0]!.c.send({ $case: "channelSend", value: { channel: CHANNEL, toUserId: 0, text: `${i} ${performance.now()}` } });
          said++;
        }
      })(),
    ]);
    const expected = said * speakers.length;
    const deadline = performance.now() + 5000;
    while (delivered < expected && performance.now() < deadline) await Bun.sleep(20);
    for (const stop of channelListeners) stop();
    for (const p of everyone) p.c.packets.length = 0;

    // 4. History pages of that channel, offered at HISTORY_RATE a second.
    let history!: Omit<StoreFigures["history"], "canary">;
    const page: Msg = { $case: "channelHistoryRequest", value: { channel: CHANNEL, withUserId: 0, before: 0, limit: 50 } };
    const historyCanary = await canaryBeside(srv, (until) => [
      (async () => {
        history = await offered(readers, page, "channelHistory", HISTORY_RATE, until, (p) => p.msg?.$case === "channelHistory" && p.msg.value.reason === "" && p.msg.value.lines.length === Math.min(50, said));
      })(),
    ]);

    return {
      store,
      quiet,
      lists: { ...lists, canary: listsCanary },
      presence: { p50: presence.percentile(0.5), p99: presence.percentile(0.99), told, expected: LOGINS * FRIENDS, canary: presenceCanary },
      channel: { p50: lines.percentile(0.5), p99: lines.percentile(0.99), delivered, lost: expected - delivered, canary: channelCanary },
      history: { ...history, canary: historyCanary },
    };
  } finally {
    await Promise.all(everyone.map((p) => p.c.close().catch(() => undefined)));
    await srv.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

let pg: TestPostgres | undefined;
const results: StoreFigures[] = [];
let priorities = "the load generator, the server and the canary at one priority";
try {
  // PostgreSQL starts first, at the usual priority (its backends inherit its postmaster's).
  const missing = postgresUnavailable();
  if (missing) console.error(`PostgreSQL skipped: ${missing}`);
  else pg = await TestPostgres.start();
  priorities = lowerOwnPriority();
  results.push(await measureStore("SQLite", undefined));
  if (pg) results.push(await measureStore("PostgreSQL", await pg.createDatabase()));
} finally {
  pg?.destroy();
}

const ms = (n: number) => n.toFixed(2);
const commit = gitCommit();
console.log(`\nmmo-server bench:players (commit ${commit}, ${new Date().toISOString()}): ${FRIENDS} friends, a channel of ${MEMBERS + READERS} members at ${RATE} lines/s, ${SECONDS} s a phase; machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, bun ${Bun.version}`);
console.log(`priorities: ${priorities}`);
console.log(`command: bun run bench:players -- --friends ${FRIENDS} --members ${MEMBERS} --readers ${READERS} --rate ${RATE} --seconds ${SECONDS} --list-rate ${LIST_RATE} --history-rate ${HISTORY_RATE}`);
console.log("| store | phase | figure | p50 ms | p99 ms | canary chat p99 ms (quiet) | canary lost | server CPU | waiting for a CPU, ms a second: server's thread, canary's |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const r of results) {
  const c = (f: CanaryFigures) => `${ms(f.chatP99)} (${ms(r.quiet.chatP99)})`;
  const w = (f: PhaseCanary) => `${f.serverWaitMsPerSec}, ${f.canaryWaitMsPerSec}`;
  console.log(`| ${r.store} | quiet | - | - | - | ${ms(r.quiet.chatP99)} | ${r.quiet.chatsLost} | ${r.quiet.serverCpuPct}% | ${w(r.quiet)} |`);
  console.log(`| ${r.store} | friends lists (${FRIENDS} friends) | ${Math.round(r.lists.perSecond).toLocaleString("en")} /s of ${Math.round(r.lists.offered).toLocaleString("en")} offered | ${ms(r.lists.p50)} | ${ms(r.lists.p99)} | ${c(r.lists.canary)} | ${r.lists.canary.chatsLost} | ${r.lists.canary.serverCpuPct}% | ${w(r.lists.canary)} |`);
  console.log(`| ${r.store} | presence at a login (${FRIENDS} friends told) | ${r.presence.told} of ${r.presence.expected} told | ${ms(r.presence.p50)} | ${ms(r.presence.p99)} | ${c(r.presence.canary)} | ${r.presence.canary.chatsLost} | ${r.presence.canary.serverCpuPct}% | ${w(r.presence.canary)} |`);
  console.log(`| ${r.store} | channel of ${MEMBERS + READERS} at ${RATE}/s | ${r.channel.delivered.toLocaleString("en")} delivered, ${r.channel.lost} lost | ${ms(r.channel.p50)} | ${ms(r.channel.p99)} | ${c(r.channel.canary)} | ${r.channel.canary.chatsLost} | ${r.channel.canary.serverCpuPct}% | ${w(r.channel.canary)} |`);
  console.log(`| ${r.store} | history pages of 50 | ${Math.round(r.history.perSecond).toLocaleString("en")} /s of ${Math.round(r.history.offered).toLocaleString("en")} offered | ${ms(r.history.p50)} | ${ms(r.history.p99)} | ${c(r.history.canary)} | ${r.history.canary.chatsLost} | ${r.history.canary.serverCpuPct}% | ${w(r.history.canary)} |`);
}
const phases = (r: StoreFigures) => [r.lists.canary, r.presence.canary, r.channel.canary, r.history.canary];
const met = results.every(
  (r) =>
    r.lists.perSecond >= 0.98 * LIST_RATE &&
    r.lists.unanswered === 0 &&
    r.history.unanswered === 0 &&
    r.channel.lost === 0 &&
    r.presence.told === r.presence.expected &&
    phases(r).every((c) => c.chatsLost === 0 && c.chatP99 <= 1.5 * r.quiet.chatP99),
);
console.log(`\ntarget (each store: friends lists answered at ≥ 98% of the ${LIST_RATE.toLocaleString("en")}/s offered, every list and page answered, every friend told, no line lost, the canary's chat p99 ≤ 1.5× its quiet figure and none lost in every phase): ${met ? "met" : "NOT met"}`);
printRecord("bench:players", { met, priorities, results });
process.exitCode = met ? 0 : 1;
