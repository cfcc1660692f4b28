// The load generator. Scenarios, each against a running server, loopback only, bounded in count and
// time, with worker processes so that the load uses both cores:
//   chat   N clients in the lobby, S of them sending R msg/s for D s; every client counts deliveries
//          and their latency (each message carries its send time)
//   idle   N idle connections; the server's RSS before and after (from /proc/PID/status)
//   churn  connect/close cycles
//   bots   N bots register, log in and steer at random; each counts the player updates it gets
// Usage: bun scripts/load.ts SCENARIO --url ws://127.0.0.1:PORT/ws [--pid SERVER_PID] [options]
//   chat:  --clients 1000 --senders 40 --rate 10 --duration 10
//   idle:  --clients 15000
//   churn: --cycles 5000
//   bots:  --bots 200 --duration 10
//   all:   --workers 2
// Prints a progress line on stderr and one JSON result line on stdout.
import { parseArgs } from "node:util";
import { encodePacket, type MsgCase } from "../src/packets/index.ts";
import { Histogram } from "../src/testing/histogram.ts";
import { readRssKiB } from "../src/testing/server-process.ts";
import { chatNumber, firstVarint, peek } from "../src/testing/wire.ts";

export interface ChatOptions {
  clients: number;
  senders: number;
  rate: number;
  duration: number;
}

export interface ScenarioResult {
  scenario: string;
  [key: string]: unknown;
}

/** Wall-clock ms with sub-ms precision, comparable across processes on one machine. */
const wallMs = () => performance.timeOrigin + performance.now();
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

// ─── Workers ──────────────────────────────────────────────────────────────────────────────────────

type WorkerTask =
  | { kind: "chat"; url: string; clients: number; senders: number; rate: number; duration: number; senderOffset: number; totalSenders: number }
  | { kind: "idle"; url: string; clients: number }
  | { kind: "churn"; url: string; cycles: number }
  | { kind: "bots"; url: string; bots: number; duration: number; prefix: string };

type WorkerMessage = { type: "ready"; connectErrors: number } | { type: "progress"; done: number } | { type: "result"; result: Record<string, unknown> };

function say(message: WorkerMessage): void {
  process.stdout.write(JSON.stringify(message) + "\n");
}

/** Lines from the coordinator on stdin: "go <wall ms>" or "stop". */
async function* commands(): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of Bun.stdin.stream()) {
    buffered += new TextDecoder().decode(chunk);
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    yield* lines;
  }
}

interface Conn {
  ws: WebSocket;
  id: number;
}

/** Opens `count` connections, at most `parallel` at a time; each resolves on its id packet. */
async function openMany(url: string, count: number, onMessage: (conn: Conn, bytes: Uint8Array) => void, parallel = 200): Promise<{ conns: Conn[]; errors: number }> {
  const conns: Conn[] = [];
  let errors = 0;
  let next = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const ws = new WebSocket(url);
      ws.binaryType = "nodebuffer";
      const conn: Conn = { ws, id: 0 };
      const timer = setTimeout(() => {
        errors++;
        ws.close();
        resolve();
      }, 20_000);
      ws.onmessage = (ev) => {
        const bytes = ev.data as Uint8Array;
        if (conn.id === 0) {
          const p = peek(bytes);
          if (p?.kind === "id") {
            conn.id = firstVarint(bytes, p);
            conns.push(conn);
            clearTimeout(timer);
            resolve();
          }
          return;
        }
        onMessage(conn, bytes);
      };
      ws.onerror = () => {
        if (conn.id === 0) {
          errors++;
          clearTimeout(timer);
          resolve();
        }
      };
    });
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) {
        next++;
        await one();
      }
    }),
  );
  return { conns, errors };
}

async function chatWorker(task: Extract<WorkerTask, { kind: "chat" }>): Promise<void> {
  const latency = new Histogram();
  let delivered = 0;
  const { conns, errors } = await openMany(task.url, task.clients, (_conn, bytes) => {
    const p = peek(bytes);
    if (p?.kind !== "chat") return;
    const sentUs = chatNumber(bytes, p);
    if (Number.isNaN(sentUs)) return;
    delivered++;
    latency.record(wallMs() - sentUs / 1000);
  });
  say({ type: "ready", connectErrors: errors });
  const cmds = commands();
  const go = (await cmds.next()).value as string;
  const startAt = Number(go.split(" ")[1]);
  await Bun.sleep(Math.max(0, startAt - wallMs()));

  const senders = conns.slice(0, task.senders);
  const perSender = Math.floor(task.rate * task.duration);
  const sentBy = new Array<number>(senders.length).fill(0);
  let sent = 0;
  let reported = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = (wallMs() - startAt) / 1000;
      for (let s = 0; s < senders.length; s++) {
        // Sender s's k-th message is due at (k + s/S) / R seconds: the senders are spread evenly.
        const phase = (task.senderOffset + s) / task.totalSenders;
        const due = Math.min(perSender, Math.floor(elapsed * task.rate - phase) + 1);
        while (sentBy[s]! < due) {
          senders[s]!.ws.send(encodePacket(0, { $case: "chat", value: { msg: String(Math.round(wallMs() * 1000)) } }));
          sentBy[s]!++;
          sent++;
        }
      }
      if (sent - reported >= 100) say({ type: "progress", done: (reported = sent) });
      if (sent >= perSender * senders.length) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  // Deliveries still in flight: wait for the coordinator's stop.
  await cmds.next();
  say({ type: "result", result: { sent, delivered, connectErrors: errors, histogram: latency.toSparse(), max: latency.max } });
  for (const c of conns) c.ws.close();
}

async function idleWorker(task: Extract<WorkerTask, { kind: "idle" }>): Promise<void> {
  const { conns, errors } = await openMany(task.url, task.clients, () => {}, 500);
  say({ type: "ready", connectErrors: errors });
  const cmds = commands();
  await cmds.next();
  const stillOpen = conns.filter((c) => c.ws.readyState === WebSocket.OPEN).length;
  say({ type: "result", result: { connected: conns.length, stillOpen, connectErrors: errors } });
  for (const c of conns) c.ws.close();
}

async function churnWorker(task: Extract<WorkerTask, { kind: "churn" }>): Promise<void> {
  say({ type: "ready", connectErrors: 0 });
  const cmds = commands();
  await cmds.next();
  let done = 0;
  let errors = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 25 }, async () => {
      while (done + errors < task.cycles) {
        const { conns, errors: e } = await openMany(task.url, 1, () => {}, 1);
        errors += e;
        for (const c of conns) {
          if ((done & 1) === 0) c.ws.close();
          else (c.ws as WebSocket & { terminate(): void }).terminate();
          done++;
        }
        if (done % 100 === 0) say({ type: "progress", done });
      }
    }),
  );
  say({ type: "result", result: { cycles: done, connectErrors: errors, seconds: (performance.now() - start) / 1000 } });
}

async function botsWorker(task: Extract<WorkerTask, { kind: "bots" }>): Promise<void> {
  // Per bot: updates received from each player id, and the gaps between consecutive ones.
  const gaps = new Histogram();
  const perBot = new Map<Conn, Map<number, { count: number; last: number }>>();
  let counting = false;
  let loginErrors = 0;
  const { conns, errors } = await openMany(task.url, task.bots, (conn, bytes) => {
    const p = peek(bytes);
    if (p?.kind !== "player" || !counting) return;
    const id = firstVarint(bytes, p);
    const now = performance.now();
    let seen = perBot.get(conn)!.get(id);
    if (!seen) perBot.get(conn)!.set(id, (seen = { count: 0, last: now }));
    else gaps.record(now - seen.last);
    seen.count++;
    seen.last = now;
  }, 20);
  // Register (or find already registered) and log in, one bot after another per connection.
  await Promise.all(
    conns.map(async (conn, i) => {
      perBot.set(conn, new Map());
      const name = `${task.prefix}${i}`;
      const reply = (msg: Parameters<typeof encodePacket>[1]) =>
        new Promise<MsgCase>((resolve) => {
          const listener = (ev: MessageEvent) => {
            const kind = peek(ev.data as Uint8Array)?.kind;
            if (kind === "okResponse" || kind === "denyResponse") {
              conn.ws.removeEventListener("message", listener);
              resolve(kind);
            }
          };
          conn.ws.addEventListener("message", listener);
          conn.ws.send(encodePacket(0, msg));
        });
      await reply({ $case: "registerRequest", value: { username: name, password: "bot-password", color: (i * 2654435761) | 0 } });
      if ((await reply({ $case: "loginRequest", value: { username: name, password: "bot-password" } })) !== "okResponse") loginErrors++;
    }),
  );
  say({ type: "ready", connectErrors: errors + loginErrors });
  const cmds = commands();
  const go = (await cmds.next()).value as string;
  const startAt = Number(go.split(" ")[1]);
  await Bun.sleep(Math.max(0, startAt - wallMs()));
  counting = true;
  const started = performance.now();
  const steer = setInterval(() => {
    for (const c of conns) c.ws.send(encodePacket(0, { $case: "playerDirection", value: { direction: Math.random() * 2 * Math.PI } }));
  }, 500);
  const progress = setInterval(() => say({ type: "progress", done: Math.round((performance.now() - started) / 1000) }), 1000);
  await Bun.sleep(task.duration * 1000);
  counting = false;
  const seconds = (performance.now() - started) / 1000;
  clearInterval(steer);
  clearInterval(progress);
  // The fraction of the expected 20 updates/s that each bot got from each player it saw.
  const fractions: number[] = [];
  for (const seen of perBot.values()) for (const { count } of seen.values()) fractions.push(count / (seconds * 20));
  say({ type: "result", result: { bots: conns.length, connectErrors: errors, loginErrors, seconds, fractions, playersSeen: [...perBot.values()].map((m) => m.size), gaps: gaps.toSparse(), gapMax: gaps.max } });
  await cmds.next();
  for (const c of conns) c.ws.close();
}

// ─── Coordinator ──────────────────────────────────────────────────────────────────────────────────

interface WorkerHandle {
  proc: ReturnType<typeof Bun.spawn>;
  messages: AsyncGenerator<WorkerMessage>;
  send(line: string): void;
}

function startWorker(task: WorkerTask, onProgress: (done: number) => void): WorkerHandle {
  const proc = Bun.spawn([process.execPath, import.meta.path, "--worker", JSON.stringify(task)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  // Read the worker's stdout eagerly, so that a full pipe never blocks it; messages wait in a queue.
  const queue: WorkerMessage[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  void (async () => {
    let buffered = "";
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      buffered += new TextDecoder().decode(chunk);
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        const message = JSON.parse(line) as WorkerMessage;
        if (message.type === "progress") onProgress(message.done);
        else queue.push(message);
      }
      wake?.();
    }
    ended = true;
    wake?.();
  })();
  async function* messages(): AsyncGenerator<WorkerMessage> {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  return {
    proc,
    messages: messages(),
    send(line: string) {
      (proc.stdin as import("bun").FileSink).write(line + "\n");
      (proc.stdin as import("bun").FileSink).flush();
    },
  };
}

async function expect(handle: WorkerHandle, type: WorkerMessage["type"]): Promise<WorkerMessage> {
  const { value, done } = await handle.messages.next();
  if (done || value.type !== type) throw new Error(`a load worker ended before sending "${type}"`);
  return value;
}

/** A progress line: a bar on a terminal, a line every few seconds otherwise. */
function progressReporter(label: string, total: number): (done: number) => void {
  let last = 0;
  return (done: number) => {
    const now = performance.now();
    if (process.stderr.isTTY) {
      const width = 30;
      const filled = Math.round((Math.min(done, total) / total) * width);
      process.stderr.write(`\r${label} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${done}/${total}`);
    } else if (now - last > 2000) {
      last = now;
      process.stderr.write(`${label}: ${done}/${total}\n`);
    }
  };
}

function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

async function allReady(workers: WorkerHandle[]): Promise<number> {
  let errors = 0;
  for (const w of workers) errors += ((await expect(w, "ready")) as Extract<WorkerMessage, { type: "ready" }>).connectErrors;
  return errors;
}

async function results(workers: WorkerHandle[]): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const w of workers) out.push(((await expect(w, "result")) as Extract<WorkerMessage, { type: "result" }>).result);
  for (const w of workers) w.send("stop");
  await Promise.all(workers.map((w) => w.proc.exited));
  return out;
}

const rss = (pid: number | undefined) => (pid ? readRssKiB(pid) : NaN);

export async function runChat(url: string, pid: number | undefined, o: ChatOptions, workers = 2): Promise<ScenarioResult> {
  const clients = split(o.clients, workers);
  const senders = split(o.senders, workers);
  let sentSoFar = 0;
  const progress = progressReporter("chat", o.senders * Math.floor(o.rate * o.duration));
  const counts = new Array<number>(workers).fill(0);
  const handles = clients.map((n, i) =>
    startWorker(
      { kind: "chat", url, clients: n, senders: senders[i]!, rate: o.rate, duration: o.duration, senderOffset: senders.slice(0, i).reduce((a, b) => a + b, 0), totalSenders: o.senders },
      (done) => {
        counts[i] = done;
        sentSoFar = counts.reduce((a, b) => a + b, 0);
        progress(sentSoFar);
      },
    ),
  );
  const connectErrors = await allReady(handles);
  const startAt = wallMs() + 300;
  for (const h of handles) h.send(`go ${startAt}`);
  // Sending takes `duration`; then give deliveries in flight two more seconds.
  await Bun.sleep(o.duration * 1000 + 2300);
  for (const h of handles) h.send("stop");
  const parts = await results(handles);
  if (process.stderr.isTTY) process.stderr.write("\n");
  const latency = new Histogram();
  let sent = 0;
  let delivered = 0;
  for (const r of parts) {
    sent += r.sent as number;
    delivered += r.delivered as number;
    latency.merge(Histogram.fromSparse(r.histogram as number[], r.max as number));
  }
  const expected = sent * (o.clients - connectErrors - 1);
  return {
    scenario: "chat",
    clients: o.clients,
    senders: o.senders,
    sent,
    expectedDeliveries: expected,
    delivered,
    lost: expected - delivered,
    deliveriesPerSecond: Math.round(delivered / o.duration),
    p50Ms: round(latency.percentile(0.5)),
    p99Ms: round(latency.percentile(0.99)),
    maxMs: round(latency.max),
    connectErrors,
    serverRssKiB: rss(pid),
  };
}

export async function runIdle(url: string, pid: number | undefined, clients: number, workers = 2): Promise<ScenarioResult> {
  Bun.gc(true);
  await Bun.sleep(300);
  const before = rss(pid);
  const progress = progressReporter("idle", clients);
  const handles = split(clients, workers).map((n) => startWorker({ kind: "idle", url, clients: n }, progress));
  const start = performance.now();
  const connectErrors = await allReady(handles);
  const connectSeconds = (performance.now() - start) / 1000;
  await Bun.sleep(1000);
  const after = rss(pid);
  for (const h of handles) h.send("stop");
  const parts = await results(handles);
  const connected = parts.reduce((a, r) => a + (r.connected as number), 0);
  return {
    scenario: "idle",
    clients,
    connected,
    stillOpen: parts.reduce((a, r) => a + (r.stillOpen as number), 0),
    connectErrors,
    connectSeconds: round(connectSeconds),
    serverRssKiBBefore: before,
    serverRssKiB: after,
    rssPerConnectionKiB: round((after - before) / Math.max(1, connected)),
  };
}

export async function runChurn(url: string, pid: number | undefined, cycles: number, workers = 2): Promise<ScenarioResult> {
  const progress = progressReporter("churn", cycles);
  const counts = new Array<number>(workers).fill(0);
  const handles = split(cycles, workers).map((n, i) =>
    startWorker({ kind: "churn", url, cycles: n }, (done) => {
      counts[i] = done;
      progress(counts.reduce((a, b) => a + b, 0));
    }),
  );
  await allReady(handles);
  for (const h of handles) h.send("go 0");
  const parts = await results(handles);
  const seconds = Math.max(...parts.map((r) => r.seconds as number));
  const done = parts.reduce((a, r) => a + (r.cycles as number), 0);
  return {
    scenario: "churn",
    cycles: done,
    connectErrors: parts.reduce((a, r) => a + (r.connectErrors as number), 0),
    cyclesPerSecond: Math.round(done / seconds),
    serverRssKiB: rss(pid),
  };
}

export async function runBots(url: string, pid: number | undefined, bots: number, duration: number, workers = 2, healthUrl?: string): Promise<ScenarioResult> {
  const prefix = `bot${Date.now().toString(36)}_`;
  const progress = progressReporter("bots", duration);
  const counts = new Array<number>(workers).fill(0);
  let offset = 0;
  const handles = split(bots, workers).map((n, i) => {
    const h = startWorker({ kind: "bots", url, bots: n, duration, prefix: `${prefix}${offset}_` }, (done) => {
      counts[i] = done;
      progress(Math.min(...counts));
    });
    offset += n;
    return h;
  });
  const connectErrors = await allReady(handles);
  const startAt = wallMs() + 500;
  for (const h of handles) h.send(`go ${startAt}`);
  const parts: Record<string, unknown>[] = [];
  for (const h of handles) parts.push(((await expect(h, "result")) as Extract<WorkerMessage, { type: "result" }>).result);
  const health = healthUrl ? ((await (await fetch(healthUrl)).json()) as { tickMs: { p50: number; p99: number; max: number; stepP99: number; longestBlockP99: number } }) : undefined;
  for (const h of handles) h.send("stop");
  await Promise.all(handles.map((h) => h.proc.exited));
  if (process.stderr.isTTY) process.stderr.write("\n");
  const fractions = parts.flatMap((r) => r.fractions as number[]).sort((a, b) => a - b);
  const gaps = new Histogram();
  for (const r of parts) gaps.merge(Histogram.fromSparse(r.gaps as number[], r.gapMax as number));
  const playersSeen = parts.flatMap((r) => r.playersSeen as number[]);
  return {
    scenario: "bots",
    bots,
    connectErrors,
    minPlayersSeenByABot: Math.min(...playersSeen),
    updateFractionMin: round(fractions[0] ?? 0, 3),
    updateFractionP1: round(fractions[Math.floor(fractions.length * 0.01)] ?? 0, 3),
    updateFractionMedian: round(fractions[Math.floor(fractions.length / 2)] ?? 0, 3),
    updateGapP50Ms: round(gaps.percentile(0.5)),
    updateGapP99Ms: round(gaps.percentile(0.99)),
    updateGapMaxMs: round(gaps.max),
    serverTickP50Ms: health ? round(health.tickMs.p50, 3) : NaN,
    serverTickP99Ms: health ? round(health.tickMs.p99, 3) : NaN,
    serverTickMaxMs: health ? round(health.tickMs.max, 3) : NaN,
    serverTickStepP99Ms: health ? round(health.tickMs.stepP99, 3) : NaN,
    serverTickLongestBlockP99Ms: health ? round(health.tickMs.longestBlockP99, 3) : NaN,
    serverRssKiB: rss(pid),
  };
}

// ─── Command line ─────────────────────────────────────────────────────────────────────────────────

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Bun.argv.slice(2),
    allowPositionals: true,
    options: {
      worker: { type: "string" },
      url: { type: "string" },
      pid: { type: "string" },
      workers: { type: "string", default: "2" },
      clients: { type: "string" },
      senders: { type: "string", default: "40" },
      rate: { type: "string", default: "10" },
      duration: { type: "string", default: "10" },
      cycles: { type: "string", default: "5000" },
      bots: { type: "string", default: "200" },
    },
  });
  if (values.worker) {
    const task = JSON.parse(values.worker) as WorkerTask;
    if (task.kind === "chat") await chatWorker(task);
    else if (task.kind === "idle") await idleWorker(task);
    else if (task.kind === "churn") await churnWorker(task);
    else await botsWorker(task);
    process.exit(0);
  }
  const url = values.url;
  const scenario = positionals[0];
  if (!url || !/^wss?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\//.test(url)) {
    console.error("usage: bun scripts/load.ts chat|idle|churn|bots --url ws://127.0.0.1:PORT/ws [--pid PID] (loopback only)");
    process.exit(2);
  }
  const pid = values.pid ? Number(values.pid) : undefined;
  const workers = Number(values.workers);
  let result: ScenarioResult;
  if (scenario === "chat") {
    result = await runChat(url, pid, { clients: Number(values.clients ?? 1000), senders: Number(values.senders), rate: Number(values.rate), duration: Number(values.duration) }, workers);
  } else if (scenario === "idle") {
    result = await runIdle(url, pid, Number(values.clients ?? 15000), workers);
  } else if (scenario === "churn") {
    result = await runChurn(url, pid, Number(values.cycles), workers);
  } else if (scenario === "bots") {
    result = await runBots(url, pid, Number(values.bots), Number(values.duration), workers, url.replace(/^ws/, "http").replace(/\/ws$/, "/healthz"));
  } else {
    console.error(`unknown scenario "${scenario}": use chat, idle, churn or bots`);
    process.exit(2);
  }
  console.log(JSON.stringify(result));
}
