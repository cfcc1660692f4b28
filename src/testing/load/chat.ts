// The chat scenario: N clients in the lobby, S of them sending R msg/s for D s; every client counts
// deliveries and their latency (each message carries its send time). With a warm-up of W s, the
// senders send for W + D s (and a second more), and the figures per delivery are taken over the D s
// after the first W: the server's CPU between those two instants, the deliveries that arrived
// between them.
import { encodePacket } from "../../packets/index.ts";
import { Histogram } from "../histogram.ts";
import { chatNumber, peek } from "../wire.ts";
import { allReady, cpuSeconds, progressReporter, results, rss, split, startWorker, type ScenarioResult } from "./coordinator.ts";
import { commands, openMany, round, say, wallMs } from "./workers.ts";

export interface ChatOptions {
  clients: number;
  senders: number;
  rate: number;
  duration: number;
  /** Whole seconds of the same load before the measured window (0: the window starts with the load). */
  warmup?: number;
}

/** How long the senders send: with a warm-up, a second past the window, so that the window ends loaded. */
const sendingSeconds = (o: ChatOptions) => (o.warmup ? o.warmup + o.duration + 1 : o.duration);

export interface ChatTask extends ChatOptions {
  kind: "chat";
  url: string;
  senderOffset: number;
  totalSenders: number;
  /** The nodes of a cluster, the clients spread evenly over them (else all on `url`). */
  urls?: string[];
}

export async function chatWorker(task: ChatTask): Promise<void> {
  const latency = new Histogram();
  let delivered = 0;
  // Deliveries by the second of their arrival since the start, so that the coordinator can take any
  // window of whole seconds.
  const arrivals: number[] = [];
  let startAt = Infinity;
  const { conns, errors } = await openMany(task.urls ?? task.url, task.clients, (_conn, bytes) => {
    const p = peek(bytes);
    if (p?.kind !== "chat") return;
    const sentUs = chatNumber(bytes, p);
    if (Number.isNaN(sentUs)) return;
    delivered++;
    const now = wallMs();
    latency.record(now - sentUs / 1000);
    const second = Math.floor((now - startAt) / 1000);
    if (second >= 0) arrivals[second] = (arrivals[second] ?? 0) + 1;
  });
  say({ type: "ready", connectErrors: errors });
  const cmds = commands();
  const go = (await cmds.next()).value as string;
  startAt = Number(go.split(" ")[1]);
  await Bun.sleep(Math.max(0, startAt - wallMs()));

  const senders = conns.slice(0, task.senders);
  const perSender = Math.floor(task.rate * sendingSeconds(task));
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
  say({ type: "result", result: { sent, delivered, arrivals: Array.from(arrivals, (n) => n ?? 0), connectErrors: errors, histogram: latency.toSparse(), max: latency.max } });
  for (const c of conns) c.ws.close();
}

export async function runChat(url: string | string[], pid: number | undefined, o: ChatOptions, workers = 2): Promise<ScenarioResult> {
  const urls = typeof url === "string" ? undefined : url;
  const clients = split(o.clients, workers);
  const senders = split(o.senders, workers);
  // Arrivals are counted by whole seconds, so the window starts on one.
  const warmup = Math.round(o.warmup ?? 0);
  const seconds = sendingSeconds({ ...o, warmup });
  let sentSoFar = 0;
  const progress = progressReporter("chat", o.senders * Math.floor(o.rate * seconds));
  const counts = new Array<number>(workers).fill(0);
  const handles = clients.map((n, i) =>
    startWorker(
      { kind: "chat", url: urls?.[0] ?? (url as string), urls, clients: n, senders: senders[i]!, rate: o.rate, duration: o.duration, warmup, senderOffset: senders.slice(0, i).reduce((a, b) => a + b, 0), totalSenders: o.senders } satisfies ChatTask,
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
  const cpuBefore = cpuSeconds(pid);
  // The CPU at the window's two ends (with a warm-up; without one, the window is the whole run).
  const cpuAt: number[] = [];
  if (warmup) {
    for (const second of [warmup, warmup + o.duration]) {
      await Bun.sleep(Math.max(0, startAt + second * 1000 - wallMs()));
      cpuAt.push(cpuSeconds(pid));
    }
  }
  // Sending takes its seconds; then give deliveries in flight two more seconds.
  await Bun.sleep(Math.max(0, startAt + seconds * 1000 + 2000 - wallMs()));
  const cpu = cpuSeconds(pid) - cpuBefore;
  for (const h of handles) h.send("stop");
  const parts = await results(handles);
  if (process.stderr.isTTY) process.stderr.write("\n");
  const latency = new Histogram();
  let sent = 0;
  let delivered = 0;
  const arrivals: number[] = [];
  for (const r of parts) {
    sent += r.sent as number;
    delivered += r.delivered as number;
    (r.arrivals as number[]).forEach((n, second) => (arrivals[second] = (arrivals[second] ?? 0) + n));
    latency.merge(Histogram.fromSparse(r.histogram as number[], r.max as number));
  }
  const expected = sent * (o.clients - connectErrors - 1);
  const arrivedIn = (from: number, to: number) => arrivals.slice(from, to).reduce((a, b) => a + (b ?? 0), 0);
  const nsPer = (seconds: number, deliveries: number) => round((seconds * 1e9) / Math.max(1, deliveries));
  const windowed = warmup
    ? {
        /** The window's deliveries a second and CPU per delivery, after the warm-up. */
        deliveriesPerSecond: Math.round(arrivedIn(warmup, warmup + o.duration) / o.duration),
        serverCpuNsPerDelivery: nsPer(cpuAt[1]! - cpuAt[0]!, arrivedIn(warmup, warmup + o.duration)),
        /** The same over the warm-up (the load's first seconds, the server's start-up compiles in them). */
        coldServerCpuNsPerDelivery: nsPer(cpuAt[0]! - cpuBefore, arrivedIn(0, warmup)),
        warmupSeconds: warmup,
      }
    : {};
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
    /** The server's CPU time (user and system) over the run, per delivery a client counted. */
    serverCpuNsPerDelivery: nsPer(cpu, delivered),
    ...windowed,
  };
}
