// The world scenario: N bots register, log in to Radius Rumble's world, ask for frames and steer at
// random (or, with `hotspot`, inside one view around the origin). Each bot reads its frames with a
// small decoder of its own (no objects per entity) and measures, for every player it sees: the updates
// it got while the player stayed in view (over the ticks it was in view, by the frames' tick numbers,
// times the tick rate the bots saw; and over the time between the frames' arrivals), the gaps between
// them (all, and for its 20 nearest; for a player among them at both its updates, also in ticks, by
// the frames' tick numbers: what the server sent, whatever the bots' own delays), and the bytes it
// was sent.
import { decodePacket, encodePacket, type MsgCase } from "../../packets/index.ts";
import { Histogram } from "../histogram.ts";
import { peek } from "../wire.ts";
import { cpuSeconds, expectMessage, rss, startBots, type ScenarioResult } from "./coordinator.ts";
import { commands, openMany, round, say, wallMs, type Conn } from "./workers.ts";

const SIGN_IN_AT_ONCE = 16;
const TICK_HZ = 20;
/** A pair counts once it stayed in view this long (a second), in the server's ticks and in arrival time. */
const MIN_IN_VIEW_MS = 1000;
const MIN_IN_VIEW_TICKS = TICK_HZ;
const NEAREST = 20;
/** The bots steer this long before the window opens. */
const WARM_UP_MS = 1000;
/** Hotspot bots turn back towards the origin past this distance (well inside one view). */
const HOTSPOT_REACH = 400;

export interface WorldBotsTask {
  kind: "world";
  url: string;
  bots: number;
  duration: number;
  prefix: string;
  hotspot: boolean;
}

interface Seen {
  since: number;
  /** The first tick of the pair's window (its entry's, or the first after the window opened). */
  sinceTick: number;
  last: number;
  updates: number;
  x: number;
  y: number;
  /** Among the bot's 20 nearest when its last update came, and that update's tick. */
  near?: boolean;
  lastTick?: number;
}

interface Bot {
  conn: Conn;
  own: number;
  x: number;
  y: number;
  players: Map<number, Seen>;
  nearest: Set<number>;
  bytes: number;
  closed: boolean;
  /** The tick of the last frame, and when it arrived. */
  tick: number;
  lastAt: number;
  /** The first frame of the window: its tick and when it arrived (-1 before it). */
  windowTick: number;
  windowAt: number;
  /** Each pair's updates over the ticks it was in view (times the server's tick rate, at the end). */
  tickFractions: number[];
}

/** The frame's fields this scenario reads, walked in place. */
function readFrame(bytes: Uint8Array, onEntity: (list: 5 | 6, id: number, isPlayer: boolean, x: number, y: number, tick: number) => void, onLeft: (id: number, tick: number) => void): { own: number; reset: boolean; tick: number } | undefined {
  let pos = 0;
  const varint = (end: number): number => {
    let value = 0;
    let scale = 1;
    while (pos < end) {
      const b = bytes[pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    return value;
  };
  const unzig = (v: number) => (v % 2 === 0 ? v / 2 : -(v + 1) / 2);
  const skip = (wire: number, end: number) => {
    if (wire === 0) varint(end);
    else if (wire === 2) {
      const len = varint(end);
      pos += len;
    }
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
  };
  // Packet: field 112 (world_frame), length-delimited.
  let frameEnd = -1;
  while (pos < bytes.length) {
    const tag = varint(bytes.length);
    if (tag === ((112 << 3) | 2)) {
      const len = varint(bytes.length);
      frameEnd = pos + len;
      break;
    }
    skip(tag & 7, bytes.length);
  }
  if (frameEnd < 0) return undefined;
  let own = 0;
  let reset = false;
  // The header (seq, tick, reset, own) comes before the lists.
  let tick = 0;
  while (pos < frameEnd) {
    const tag = varint(frameEnd);
    const field = tag >>> 3;
    if (field === 2) tick = varint(frameEnd);
    else if (field === 3) reset = varint(frameEnd) === 1;
    else if (field === 4) own = varint(frameEnd);
    else if (field === 5 || field === 6) {
      const len = varint(frameEnd);
      const end = pos + len;
      let id = 0;
      let x = 0;
      let y = 0;
      let isPlayer = false;
      while (pos < end) {
        const t = varint(end);
        const f = t >>> 3;
        if (f === 1) id = varint(end);
        else if (f === 3) x = unzig(varint(end));
        else if (f === 4) y = unzig(varint(end));
        else if (f === 2) {
          const len = varint(end);
          // "player": p l a y e r
          isPlayer = len === 6 && bytes[pos] === 0x70 && bytes[pos + 1] === 0x6c;
          pos += len;
        } else skip(t & 7, end);
      }
      pos = end;
      onEntity(field, id, isPlayer, x, y, tick);
    } else if (field === 7) {
      const len = varint(frameEnd);
      const end = pos + len;
      while (pos < end) onLeft(varint(end), tick);
    } else skip(tag & 7, frameEnd);
  }
  return { own, reset, tick };
}

export async function worldBotsWorker(task: WorldBotsTask): Promise<void> {
  const gaps = new Histogram();
  const nearestGaps = new Histogram();
  /** For a player among the nearest at both its updates: the ticks between them (what the server sent, whatever the bots' delays). */
  const nearestStayedTicks = new Histogram();
  const arrivalFractions: number[] = [];
  let counting = false;
  let countingSince = 0;
  let loginErrors = 0;
  let refused = 0;
  const bots = new Map<Conn, Bot>();
  /**
   * A pair's window ends (its player left the view before tick `endTick`, a reset frame came, or the
   * run ended). Its fraction is counted twice: over the ticks it spent in view, as the frames' tick
   * numbers say (the server's clock: the bots' own delays on the shared cores do not stretch or
   * shrink a window), and over the time between the frames' arrivals (the old count, which a frame
   * that arrives late at the end of a window of one second takes 5% off).
   */
  const settle = (bot: Bot, seen: Seen, now: number, endTick: number) => {
    if (!counting) return;
    const from = Math.max(seen.since, countingSince);
    if (now - from >= MIN_IN_VIEW_MS) arrivalFractions.push(Math.min(1, seen.updates / (((now - from) / 1000) * TICK_HZ)));
    const ticks = endTick - seen.sinceTick;
    if (ticks >= MIN_IN_VIEW_TICKS) bot.tickFractions.push(Math.min(1, seen.updates / ticks));
  };
  const { conns, errors } = await openMany(task.url, task.bots, (conn, bytes) => {
    const bot = bots.get(conn);
    if (!bot || peek(bytes)?.kind !== "worldFrame") return;
    const now = performance.now();
    if (counting) bot.bytes += bytes.length;
    const header = readFrame(
      bytes,
      (list, id, isPlayer, x, y, tick) => {
        if (id === bot.own || (list === 5 && !isPlayer)) {
          if (id === bot.own) {
            bot.x = x;
            bot.y = y;
          }
          return;
        }
        let seen = bot.players.get(id);
        if (list === 5) {
          // The entering entry carries the position too: the first of the pair's updates.
          if (isPlayer) bot.players.set(id, { since: now, sinceTick: tick, last: now, updates: 1, x, y });
          return;
        }
        if (!seen) return;
        const near = bot.nearest.has(id);
        if (counting && seen.last >= countingSince) {
          const gap = now - seen.last;
          gaps.record(gap);
          if (near) nearestGaps.record(gap);
          if (near && seen.near) nearestStayedTicks.record(tick - seen.lastTick!);
        }
        seen.near = near;
        seen.lastTick = tick;
        seen.updates++;
        seen.last = now;
        seen.x = x;
        seen.y = y;
      },
      (id, tick) => {
        const seen = bot.players.get(id);
        if (!seen) return;
        settle(bot, seen, now, tick);
        bot.players.delete(id);
      },
    );
    if (!header) return;
    if (counting && bot.windowTick < 0) {
      bot.windowTick = header.tick;
      bot.windowAt = now;
    }
    bot.tick = header.tick;
    bot.lastAt = now;
    if (header.reset) {
      for (const seen of bot.players.values()) settle(bot, seen, now, header.tick);
    }
    if (header.own !== 0 && header.own !== bot.own) {
      bot.own = header.own;
      bot.players.delete(header.own);
    }
  });
  const signIn = async (conn: Conn, i: number) => {
    const bot: Bot = { conn, own: 0, x: 0, y: 0, players: new Map(), nearest: new Set(), bytes: 0, closed: false, tick: 0, lastAt: 0, windowTick: -1, windowAt: 0, tickFractions: [] };
    conn.ws.addEventListener("close", () => (bot.closed = true));
    const name = `${task.prefix}${i}`;
    const reply = (msg: Parameters<typeof encodePacket>[1], kinds: MsgCase[]) =>
      new Promise<{ kind: MsgCase; bytes: Uint8Array }>((resolve) => {
        const listener = (ev: MessageEvent) => {
          const kind = peek(ev.data as Uint8Array)?.kind;
          if (kind && kinds.includes(kind)) {
            conn.ws.removeEventListener("message", listener);
            resolve({ kind, bytes: ev.data as Uint8Array });
          }
        };
        conn.ws.addEventListener("message", listener);
        conn.ws.send(encodePacket(0, msg));
      });
    await reply({ $case: "registerRequest", value: { username: name, password: "bot-password", color: (i * 2654435761) | 0 } }, ["okResponse", "denyResponse"]);
    if ((await reply({ $case: "loginRequest", value: { username: name, password: "bot-password" } }, ["okResponse", "denyResponse"])).kind !== "okResponse") {
      loginErrors++;
      return;
    }
    bots.set(conn, bot);
    const info = decodePacket((await reply({ $case: "worldFramesRequest", value: { viewRadius: 0 } }, ["worldInfo"])).bytes).msg;
    if (info?.$case !== "worldInfo" || !info.value.ok) refused++;
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
  say({ type: "ready", connectErrors: errors + loginErrors + refused });
  const cmds = commands();
  const go = (await cmds.next()).value as string;
  await Bun.sleep(Math.max(0, Number(go.split(" ")[1]) - wallMs()));
  const precision = 0.1;
  const steerAll = () => {
    for (const bot of bots.values()) {
      if (bot.closed) continue;
      let direction = Math.random() * 2 * Math.PI;
      const x = bot.x * precision;
      const y = bot.y * precision;
      if (task.hotspot && Math.hypot(x, y) > HOTSPOT_REACH) direction = Math.atan2(-y, -x) + (Math.random() - 0.5);
      bot.conn.ws.send(encodePacket(0, { $case: "playerDirection", value: { direction } }));
    }
  };
  steerAll();
  const steer = setInterval(steerAll, 500);
  // Every player is moving before the window opens (a pair measured from a still start would count
  // the ticks before its player's first steer as missed updates).
  await Bun.sleep(WARM_UP_MS);
  counting = true;
  countingSince = performance.now();
  // A pair in view already counts from now: what it got before is not in the window.
  for (const bot of bots.values()) {
    for (const seen of bot.players.values()) {
      seen.updates = 0;
      seen.sinceTick = bot.tick + 1;
    }
  }
  const started = countingSince;
  const nearestEvery = setInterval(() => {
    for (const bot of bots.values()) {
      const byDistance = [...bot.players].sort(([, a], [, b]) => Math.hypot(a.x - bot.x, a.y - bot.y) - Math.hypot(b.x - bot.x, b.y - bot.y));
      bot.nearest = new Set(byDistance.slice(0, NEAREST).map(([id]) => id));
    }
  }, 250);
  const progress = setInterval(() => say({ type: "progress", done: Math.round((performance.now() - started) / 1000) }), 1000);
  await Bun.sleep(task.duration * 1000);
  const now = performance.now();
  for (const bot of bots.values()) for (const seen of bot.players.values()) settle(bot, seen, now, bot.tick + 1);
  counting = false;
  const seconds = (now - started) / 1000;
  clearInterval(steer);
  clearInterval(nearestEvery);
  clearInterval(progress);
  const all = [...bots.values()];
  // The server's tick rate as each bot saw it over the whole window (frames' ticks against their
  // arrival times, 20 s apart): a pair's share of its ticks, times that rate, is its share of 20 a second.
  const tickRates: number[] = [];
  const fractions: number[] = [];
  for (const bot of all) {
    if (bot.windowTick < 0 || bot.lastAt <= bot.windowAt) continue;
    const rate = (bot.tick - bot.windowTick) / ((bot.lastAt - bot.windowAt) / 1000);
    tickRates.push(rate);
    for (const f of bot.tickFractions) fractions.push(f * Math.min(1, rate / TICK_HZ));
  }
  say({
    type: "result",
    result: {
      bots: all.length,
      connectErrors: errors + loginErrors,
      refused,
      seconds,
      fractions,
      arrivalFractions,
      tickRates,
      gaps: gaps.toSparse(),
      gapMax: gaps.max,
      nearestGaps: nearestGaps.toSparse(),
      nearestGapMax: nearestGaps.max,
      nearestStayedTicks: nearestStayedTicks.toSparse(),
      nearestStayedTickMax: nearestStayedTicks.max,
      bytesPerSec: all.map((b) => b.bytes / seconds),
      disconnected: all.filter((b) => b.closed).length,
      playersInView: all.map((b) => b.players.size),
    },
  });
  await cmds.next();
  for (const c of conns) c.ws.close();
}

export async function runWorldBots(url: string, pid: number | undefined, bots: number, duration: number, hotspot: boolean, healthUrl: string, workers = 2): Promise<ScenarioResult> {
  const { handles, connectErrors } = await startBots(hotspot ? "world hotspot" : "world", bots, duration, workers, (n, prefix) => ({ kind: "world", url, bots: n, duration, prefix, hotspot }) satisfies WorldBotsTask);
  const cpuBefore = cpuSeconds(pid);
  const wallBefore = performance.now();
  const parts: Record<string, unknown>[] = [];
  for (const h of handles) parts.push(((await expectMessage(h, "result")) as { result: Record<string, unknown> }).result);
  const serverCpuPct = ((cpuSeconds(pid) - cpuBefore) / ((performance.now() - wallBefore) / 1000)) * 100;
  type Figures = { p50: number; p99: number };
  const health = (await (await fetch(healthUrl)).json()) as { roomTickMs?: Figures; roomTickRunMs?: Figures; roomTickWaitMs?: Figures; tickMs: Figures; framesMs?: Figures };
  const rssKiB = rss(pid);
  for (const h of handles) h.send("stop");
  await Promise.all(handles.map((h) => h.proc.exited));
  if (process.stderr.isTTY) process.stderr.write("\n");
  const fractions = parts.flatMap((r) => r.fractions as number[]).sort((a, b) => a - b);
  const arrivalFractions = parts.flatMap((r) => r.arrivalFractions as number[]).sort((a, b) => a - b);
  const tickRates = parts.flatMap((r) => r.tickRates as number[]).sort((a, b) => a - b);
  const merged = (key: string, max: string) => {
    const h = new Histogram();
    for (const r of parts) h.merge(Histogram.fromSparse(r[key] as number[], r[max] as number));
    return h;
  };
  const gaps = merged("gaps", "gapMax");
  const nearestGaps = merged("nearestGaps", "nearestGapMax");
  const nearestStayedTicks = merged("nearestStayedTicks", "nearestStayedTickMax");
  const bytes = parts.flatMap((r) => r.bytesPerSec as number[]).sort((a, b) => a - b);
  const inView = parts.flatMap((r) => r.playersInView as number[]).sort((a, b) => a - b);
  return {
    scenario: "world",
    bots,
    hotspot,
    connectErrors,
    pairs: fractions.length,
    worstPairInViewFraction: round(fractions[0] ?? 0, 3),
    inViewFractionP1: round(fractions[Math.floor(fractions.length * 0.01)] ?? 0, 3),
    inViewFractionP50: round(fractions[Math.floor(fractions.length / 2)] ?? 0, 3),
    // The same pairs counted by the frames' arrival times, and the server's tick rate as the bots saw it.
    worstPairByArrivalFraction: round(arrivalFractions[0] ?? 0, 3),
    byArrivalFractionP1: round(arrivalFractions[Math.floor(arrivalFractions.length * 0.01)] ?? 0, 3),
    tickRateMin: round(tickRates[0] ?? 0, 2),
    updateGapP99Ms: round(gaps.percentile(0.99)),
    nearest20GapP99Ms: round(nearestGaps.percentile(0.99)),
    // How many ticks apart a player among a bot's 20 nearest at both its updates was sent.
    nearest20StayedTicksP50: Math.round(nearestStayedTicks.percentile(0.5)),
    nearest20StayedTicksP99: Math.round(nearestStayedTicks.percentile(0.99)),
    playersInViewP50: inView[Math.floor(inView.length / 2)] ?? 0,
    bytesPerClientPerSecP50: Math.round(bytes[Math.floor(bytes.length / 2)] ?? 0),
    bytesPerClientPerSecP99: Math.round(bytes[Math.floor(bytes.length * 0.99)] ?? 0),
    // A binary from before roomTickMs (--binary): the sum of its step's and its frames' p99, an upper bound.
    tickP99Ms: round(health.roomTickMs?.p99 ?? health.tickMs.p99 + (health.framesMs?.p99 ?? 0), 2),
    // Of the tick, on Linux: the server's thread runnable but waiting for a CPU, and the rest (each its own percentiles).
    ...(health.roomTickRunMs &&
      health.roomTickWaitMs && {
        tickRunP50Ms: round(health.roomTickRunMs.p50, 2),
        tickRunP99Ms: round(health.roomTickRunMs.p99, 2),
        tickWaitP50Ms: round(health.roomTickWaitMs.p50, 2),
        tickWaitP99Ms: round(health.roomTickWaitMs.p99, 2),
      }),
    disconnected: parts.reduce((sum, r) => sum + (r.disconnected as number), 0),
    serverCpuPct: round(serverCpuPct, 1),
    rssMiB: round(rssKiB / 1024, 1),
  };
}
