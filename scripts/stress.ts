// Stress scenarios against a real mmo-server process on loopback, each bounded in count and time:
//   fuzz   100,000 random and mutated frames while a canary pair keeps chatting
//   churn  10,000 connect/close cycles (src/testing/load/churn.ts) in 4 rounds; ids, hub and RSS after
//   slow   20 clients that never read while a writer floods the lobby; server RSS stays bounded
//   logflood  10 clients sending logins with 30 KB usernames full of newlines at their full rate
//   regflood  200 clients registering back to back from one address
// The two floods come from one address and a canary logs in from another (through --trust-proxy, as
// behind a reverse proxy); they print the log bytes the server wrote and the canary's login latency.
// Usage: bun scripts/stress.ts [fuzz|churn|slow|logflood|regflood ...] [--frames N] [--cycles N] [--binary PATH]
// Runs ./mmo-server when built, else the source. Prints one JSON line per scenario.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { decodePacket, encodePacket, newChat } from "../src/packets/index.ts";
import { fuzzFrame, seededRandom } from "../src/testing/frames.ts";
import { runChurn } from "../src/testing/load/churn.ts";
import { login, register, TestClient } from "../src/testing/client.ts";
import { healthz, serverCommand, startServerProcess, type ServerProcess } from "../src/testing/server-process.ts";
import { stalledReaders } from "../src/testing/stalled-readers.ts";

const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  allowPositionals: true,
  options: { frames: { type: "string", default: "100000" }, cycles: { type: "string", default: "10000" }, binary: { type: "string" } },
});
const scenarios = positionals.length > 0 ? positionals : ["fuzz", "churn", "slow", "logflood", "regflood"];

interface Client {
  ws: WebSocket;
  id: number;
  chats: { text: string; senderId: number; at: number }[];
}

function connect(url: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    const client: Client = { ws, id: 0, chats: [] };
    const timer = setTimeout(() => reject(new Error("no id within 5 s")), 5000);
    ws.onmessage = (ev) => {
      const packet = decodePacket(new Uint8Array(ev.data as ArrayBuffer));
      if (packet.msg?.$case === "id" && client.id === 0) {
        client.id = packet.msg.value.id;
        clearTimeout(timer);
        resolve(client);
      } else if (packet.msg?.$case === "chat") {
        client.chats.push({ text: packet.msg.value.msg, senderId: packet.senderId, at: performance.now() });
      }
    };
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
}

async function roundTrip(from: Client, to: Client, text: string): Promise<number> {
  const start = performance.now();
  from.ws.send(encodePacket(0, newChat(text)));
  const deadline = start + 5000;
  while (performance.now() < deadline) {
    const hit = to.chats.find((c) => c.text === text && c.senderId === from.id);
    if (hit) return hit.at - start;
    await Bun.sleep(0);
  }
  throw new Error(`canary chat "${text}" did not arrive within 5 s`);
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;
const round = (n: number) => Math.round(n * 100) / 100;

/** Runs a scenario against a fresh server with a data folder of its own. */
async function withServer<T>(args: string[], run: (srv: ServerProcess) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), "mmo-stress-"));
  const srv = await startServerProcess(values.binary ? [values.binary] : serverCommand(), ["--data-dir", dataDir, "--max-clients-per-ip", "0", ...args]);
  try {
    return await run(srv);
  } finally {
    const code = await srv.stop();
    rmSync(dataDir, { recursive: true, force: true });
    if (code !== 0) throw new Error(`the server exited with ${code}`);
  }
}

async function fuzz(frames: number) {
  return withServer(["--max-malformed", "1000000", "--rate-limit", "1000000", "--rate-burst", "1000000"], async (srv) => {
    const [fuzzer, a, b] = await Promise.all([connect(srv.url), connect(srv.url), connect(srv.url)]);
    const random = seededRandom(7);
    const latencies: number[] = [];
    const rssBefore = srv.rssKiB();
    for (let sent = 0; sent < frames; ) {
      for (let i = 0; i < 1000 && sent < frames; i++, sent++) fuzzer!.ws.send(fuzzFrame(random));
      latencies.push(await roundTrip(a!, b!, `canary ${sent}`));
      if (sent % 20000 === 0) process.stderr.write(`\rfuzz: ${sent}/${frames} frames`);
    }
    process.stderr.write("\n");
    const alive = fuzzer!.ws.readyState === WebSocket.OPEN;
    for (const c of [fuzzer!, a!, b!]) c.ws.close();
    return {
      scenario: "fuzz",
      frames,
      fuzzerStillConnected: alive,
      canaryRoundTrips: latencies.length,
      canaryP50Ms: round(percentile(latencies, 0.5)),
      canaryP99Ms: round(percentile(latencies, 0.99)),
      canaryMaxMs: round(Math.max(...latencies)),
      serverRssKiBBefore: rssBefore,
      serverRssKiBAfter: srv.rssKiB(),
    };
  });
}

async function churn(cycles: number) {
  return withServer([], async (srv) => {
    await Bun.sleep(500);
    const rssBefore = srv.rssKiB();
    const ids = new Set<number>();
    let repeatedIds = 0;
    const start = performance.now();
    // Four rounds: memory that follows a high-water mark levels off, a leak keeps climbing.
    const rounds = 4;
    const rssAfterEachRound: number[] = [];
    let clients = 0;
    for (let r = 0; r < rounds; r++) {
      repeatedIds += (await runChurn(srv.url, srv.proc.pid, Math.ceil(cycles / rounds), 2, ids)).repeatedIds as number;
      const deadline = performance.now() + 10_000;
      clients = (await healthz(srv.port)).clients;
      while (clients > 0 && performance.now() < deadline) {
        await Bun.sleep(100);
        clients = (await healthz(srv.port)).clients;
      }
      await Bun.sleep(500);
      rssAfterEachRound.push(srv.rssKiB());
      process.stderr.write(`churn: round ${r + 1}/${rounds}, ${ids.size} cycles, server RSS ${rssAfterEachRound.at(-1)} KiB\n`);
    }
    return {
      scenario: "churn",
      cycles: ids.size,
      seconds: round((performance.now() - start) / 1000),
      distinctIds: ids.size,
      repeatedIds,
      hubClientsAfter: clients,
      serverRssKiBBefore: rssBefore,
      serverRssKiBAfterEachQuarter: rssAfterEachRound,
      growthInTheLastHalfKiB: rssAfterEachRound[rounds - 1]! - rssAfterEachRound[rounds / 2 - 1]!,
    };
  });
}

async function slow() {
  const limit = 256 * 1024;
  return withServer(["--backpressure-limit", String(limit), "--slow-reader-grace", "3", "--rate-limit", "100000", "--rate-burst", "100000"], async (srv) => {
    const rssIdle = srv.rssKiB();
    const stalled = await stalledReaders(srv.url, 20);
    try {
      const [writer, canary] = await Promise.all([connect(srv.url), connect(srv.url)]);
      const chunk = encodePacket(0, newChat("z".repeat(16 * 1024)));
      let rssPeak = 0;
      // 64 MiB offered to each of the 20 stalled readers; the RSS at each quarter shows whether memory
      // follows the limits (flat) or the traffic (growing).
      const sends = 4096;
      const rssAtQuarters: number[] = [];
      for (let i = 0; i < sends; i++) {
        writer!.ws.send(chunk);
        if (i % 128 === 127) {
          await Bun.sleep(2);
          rssPeak = Math.max(rssPeak, srv.rssKiB());
        }
        if (i % 1024 === 1023) rssAtQuarters.push(srv.rssKiB());
      }
      const deadline = performance.now() + 15_000;
      while (canary!.chats.length < sends && performance.now() < deadline) await Bun.sleep(20);
      let clients = (await healthz(srv.port)).clients;
      while (clients > 2 && performance.now() < deadline) {
        await Bun.sleep(200);
        rssPeak = Math.max(rssPeak, srv.rssKiB());
        clients = (await healthz(srv.port)).clients;
      }
      return {
        scenario: "slow",
        stalledReaders: 20,
        backpressureLimitBytes: limit,
        bytesOfferedPerReaderMiB: (sends * chunk.length) / 1024 / 1024,
        canaryReceived: canary!.chats.length,
        canaryExpected: sends,
        clientsLeftAfterGrace: clients,
        serverRssKiBIdle: rssIdle,
        serverRssKiBAtEachQuarterOfTheFlood: rssAtQuarters,
        serverRssKiBPeak: rssPeak,
        queuedForStalledReadersAtMostKiB: (20 * limit) / 1024,
      };
    } finally {
      await stalled.end();
    }
  });
}

const FLOOD_ADDRESS = "198.51.100.7";
const CANARY_ADDRESS = "203.0.113.9";
const FLOOD_SECONDS = 10;

/** Registers the canary's account, before a flood starts. */
async function registerCanary(url: string): Promise<void> {
  const setup = await TestClient.connect(url, { headers: { "X-Forwarded-For": CANARY_ADDRESS } });
  const answer = await register(setup, "Canary", "canary password");
  if (answer !== "ok") throw new Error(`the canary cannot register: ${answer}`);
  await setup.close();
}

/** Logs the canary in (a fresh connection each time, from its own address) every 250 ms until `until`; latencies in ms. */
async function canaryLogins(url: string, until: number): Promise<number[]> {
  const latencies: number[] = [];
  while (performance.now() < until) {
    const c = await TestClient.connect(url, { headers: { "X-Forwarded-For": CANARY_ADDRESS } });
    const start = performance.now();
    const answer = await login(c, "Canary", "canary password");
    if (answer !== "ok") throw new Error(`the canary's login was refused: ${answer}`);
    latencies.push(performance.now() - start);
    await c.close();
    await Bun.sleep(250);
  }
  return latencies;
}

/**
 * A flood from `count` clients on FLOOD_ADDRESS for FLOOD_SECONDS (each running `flood` until the
 * deadline), while the canary logs in from its own address; the log bytes written and the canary's figures.
 */
async function underFlood(count: number, flood: (c: TestClient, until: number) => Promise<void>) {
  return withServer(["--trust-proxy", "127.0.0.1"], async (srv) => {
    await registerCanary(srv.url);
    const before = srv.stdoutBytes();
    const until = performance.now() + FLOOD_SECONDS * 1000;
    const flooders = await Promise.all(Array.from({ length: count }, () => TestClient.connect(srv.url, { headers: { "X-Forwarded-For": FLOOD_ADDRESS } })));
    const canary = canaryLogins(srv.url, until);
    await Promise.all(flooders.map((c) => flood(c, until)));
    const latencies = await canary;
    await Promise.all(flooders.map((c) => c.close()));
    await Bun.sleep(500); // the last lines reach the log
    return {
      flooders: count,
      seconds: FLOOD_SECONDS,
      logBytesWritten: srv.stdoutBytes() - before,
      canaryLogins: latencies.length,
      canaryLoginP50Ms: round(percentile(latencies, 0.5)),
      canaryLoginP99Ms: round(percentile(latencies, 0.99)),
      canaryLoginMaxMs: round(Math.max(...latencies)),
      serverRssKiB: srv.rssKiB(),
    };
  });
}

async function logflood() {
  let sent = 0;
  // A new name each time (no throttle by name helps), each carrying forged log lines.
  const name = (i: number) => `${i}\n2026-01-01 00:00:00 INFO forged line\n${"x".repeat(30 * 1024)}`;
  const figures = await underFlood(10, async (c, until) => {
    for (let i = 0; performance.now() < until; i++) {
      c.send({ $case: "loginRequest", value: { username: name(sent++), password: "x" } });
      c.packets.length = 0;
      if (i % 10 === 9) await Bun.sleep(100); // 100 a second: the default rate limit
    }
  });
  return { scenario: "logflood", loginsSent: sent, ...figures };
}

async function regflood() {
  const answers = new Map<string, number>();
  let n = 0;
  const figures = await underFlood(200, async (c, until) => {
    while (performance.now() < until) {
      // A flood waits its own turn in the hash queue: past 5 s, counted as such and sent again.
      const answer = await register(c, `flood${n++}`, "flood password").catch(() => "no answer within 5 s");
      answers.set(answer, (answers.get(answer) ?? 0) + 1);
      c.packets.length = 0;
    }
  });
  return { scenario: "regflood", registrationAnswers: Object.fromEntries(answers), ...figures };
}

for (const scenario of scenarios) {
  let result;
  if (scenario === "fuzz") result = await fuzz(Number(values.frames));
  else if (scenario === "churn") result = await churn(Number(values.cycles));
  else if (scenario === "slow") result = await slow();
  else if (scenario === "logflood") result = await logflood();
  else if (scenario === "regflood") result = await regflood();
  else throw new Error(`unknown scenario ${scenario}: use fuzz, churn, slow, logflood or regflood`);
  console.log(JSON.stringify(result));
}
