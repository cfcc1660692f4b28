// The bots scenario: N bots register, log in to Radius Rumble's world and steer at random; each counts
// the player updates it gets from every player, and the gaps between them.
import { encodePacket, type MsgCase } from "../../packets/index.ts";
import { Histogram } from "../histogram.ts";
import { firstVarint, peek } from "../wire.ts";
import { expectMessage, rss, startBots, type ScenarioResult } from "./coordinator.ts";
import { commands, openMany, round, say, wallMs, type Conn, type WorkerMessage } from "./workers.ts";

/** Bots of one worker process signing in at once (two workers stay well under the server's 64 per address). */
const SIGN_IN_AT_ONCE = 16;

export interface BotsTask {
  kind: "bots";
  url: string;
  bots: number;
  duration: number;
  prefix: string;
  /** The nodes of a cluster, the bots spread evenly over them (else all on `url`). */
  urls?: string[];
}

export async function botsWorker(task: BotsTask): Promise<void> {
  // Per bot: updates received from each player id, and the gaps between consecutive ones.
  const gaps = new Histogram();
  const perBot = new Map<Conn, Map<number, { count: number; last: number }>>();
  let counting = false;
  let loginErrors = 0;
  const deliveredByNode = new Array<number>(task.urls?.length ?? 1).fill(0);
  const { conns, errors } = await openMany(task.urls ?? task.url, task.bots, (conn, bytes) => {
    const p = peek(bytes);
    if (p?.kind !== "player" || !counting) return;
    deliveredByNode[conn.node]!++;
    const id = firstVarint(bytes, p);
    const now = performance.now();
    let seen = perBot.get(conn)!.get(id);
    if (!seen) perBot.get(conn)!.set(id, (seen = { count: 0, last: now }));
    else gaps.record(now - seen.last);
    seen.count++;
    seen.last = now;
  }, 20);
  // Register (or find already registered) and log in, a few bots at a time: the server hashes
  // passwords in a queue that refuses an address more than 64 waiting at once.
  const signIn = async (conn: Conn, i: number) => {
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
  };
  let nextBot = 0;
  await Promise.all(
    Array.from({ length: SIGN_IN_AT_ONCE }, async () => {
      while (nextBot < conns.length) {
        const i = nextBot++;
        await signIn(conns[i]!, i);
      }
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
  say({ type: "result", result: { bots: conns.length, connectErrors: errors, loginErrors, seconds, fractions, playersSeen: [...perBot.values()].map((m) => m.size), gaps: gaps.toSparse(), gapMax: gaps.max, deliveredByNode } });
  await cmds.next();
  for (const c of conns) c.ws.close();
}

export async function runBots(url: string | string[], pid: number | undefined, bots: number, duration: number, workers = 2, healthUrl?: string): Promise<ScenarioResult> {
  const urls = typeof url === "string" ? undefined : url;
  const { handles, connectErrors } = await startBots("bots", bots, duration, workers, (n, prefix) => ({ kind: "bots", url: urls?.[0] ?? (url as string), urls, bots: n, duration, prefix }) satisfies BotsTask);
  const parts: Record<string, unknown>[] = [];
  for (const h of handles) parts.push(((await expectMessage(h, "result")) as Extract<WorkerMessage, { type: "result" }>).result);
  const health = healthUrl ? ((await (await fetch(healthUrl)).json()) as { tickMs: { p50: number; p99: number; max: number; stepP99: number; longestBlockP99: number } }) : undefined;
  for (const h of handles) h.send("stop");
  await Promise.all(handles.map((h) => h.proc.exited));
  if (process.stderr.isTTY) process.stderr.write("\n");
  const fractions = parts.flatMap((r) => r.fractions as number[]).sort((a, b) => a - b);
  const gaps = new Histogram();
  for (const r of parts) gaps.merge(Histogram.fromSparse(r.gaps as number[], r.gapMax as number));
  const playersSeen = parts.flatMap((r) => r.playersSeen as number[]);
  const deliveredByNode = (urls ?? [url]).map((_, node) => parts.reduce((sum, r) => sum + (r.deliveredByNode as number[])[node]!, 0));
  return {
    scenario: "bots",
    bots,
    connectErrors,
    minPlayersSeenByABot: Math.min(...playersSeen),
    updateFractionMin: round(fractions[0] ?? 0, 3),
    updateFractionP1: round(fractions[Math.floor(fractions.length * 0.01)] ?? 0, 3),
    updateFractionMedian: round(fractions[Math.floor(fractions.length / 2)] ?? 0, 3),
    seconds: parts[0]?.seconds,
    deliveredByNode,
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
