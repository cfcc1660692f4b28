// `bun run bench:cluster`: the same load on one server alone and on a cluster of 1, 2 and 3 nodes of
// ./mmo-server (built first) on one real redis-server, all on this machine. Two loads, each run on
// every layout: bots in the one world, spread evenly over the nodes (each bot counts the player updates
// it gets from every player), and lobby chat with its clients spread over the nodes (every message
// must reach every other client, whichever node it is on). For each node: its CPU seconds, the player
// updates its own clients got (the fan-out it did), and its bus traffic. The machine's cores are
// shared with the load generator and Redis, so the figures to read are the ratios: what the cluster
// costs, and how each node's share of the fan-out falls with the number of nodes.
// Every client comes from one address: the nodes let it register past the default limit. With
// --baseline REV, that commit's executable (built in a checkout beside this one) runs every load and
// layout too, in turn with this code's, so that a change is measured against the code before it in
// the same run.
// Options: --bots 300 --duration 10 --chat-clients 200 --chat-senders 20 --chat-rate 10 --layouts alone,1,2,3 --baseline REV
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runBots } from "../src/testing/load/bots.ts";
import { runChat } from "../src/testing/load/chat.ts";
import { cpuSeconds, type ScenarioResult } from "../src/testing/load/coordinator.ts";
import { redisUnavailable, TestRedis } from "../src/testing/redis.ts";
import { ROOT, startServerProcess, type ServerProcess } from "../src/testing/server-process.ts";
import { buildAt, checkoutBaseline } from "../src/testing/baseline.ts";
import { gitCommit, printRecord } from "../src/testing/record.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    bots: { type: "string", default: "300" },
    duration: { type: "string", default: "10" },
    "chat-clients": { type: "string", default: "200" },
    "chat-senders": { type: "string", default: "20" },
    "chat-rate": { type: "string", default: "10" },
    layouts: { type: "string", default: "alone,1,2,3" },
    baseline: { type: "string" },
  },
});
const BOTS = Number(values.bots);
const DURATION = Number(values.duration);
const LAYOUTS = values.layouts.split(",");

const why = redisUnavailable();
if (why) {
  console.error(`bench:cluster needs redis-server: ${why}`);
  process.exit(1);
}
const built = buildAt(ROOT);

async function busCounters(node: ServerProcess): Promise<{ messagesOut: number; bytesOut: number; messagesIn: number; bytesIn: number }> {
  const text = await (await fetch(`http://127.0.0.1:${node.port}/metrics`)).text();
  const read = (name: string, direction: string) => Number(new RegExp(`^${name}\\{direction="${direction}"\\} (\\d+)`, "m").exec(text)?.[1] ?? 0);
  return { messagesOut: read("mmo_bus_messages_total", "out"), bytesOut: read("mmo_bus_bytes_total", "out"), messagesIn: read("mmo_bus_messages_total", "in"), bytesIn: read("mmo_bus_bytes_total", "in") };
}

interface NodeFigures {
  cpuSeconds: number;
  /** Player updates (bots) or chat messages (chat) this node's clients got. */
  deliveries: number;
  busMessagesOutPerSecond: number;
  busKBOutPerSecond: number;
  busMessagesInPerSecond: number;
}

interface Row {
  /** Which executable: this code's, or the baseline's. */
  code: string;
  layout: string;
  load: "bots" | "chat";
  result: ScenarioResult;
  nodes: NodeFigures[];
}

/** Starts the layout's nodes (the first runs the world), runs `load` on them, and stops them. */
async function measure(code: { name: string; binary: string }, layout: string, load: "bots" | "chat", redis: TestRedis): Promise<Row> {
  const count = layout === "alone" ? 1 : Number(layout);
  const dataDir = mkdtempSync(join(tmpdir(), "mmo-bench-cluster-"));
  const nodes: ServerProcess[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const cluster = layout === "alone" ? [] : ["--redis-url", redis.url, "--node-name", `bench${i + 1}`, "--cluster-secret", "bench:cluster's secret, 16+"];
      nodes.push(await startServerProcess([code.binary], ["--data-dir", dataDir, "--log-level", "warn", "--seed", "1", "--register-burst", "100000", "--max-clients-per-ip", "0", ...cluster]));
      // The first node takes the world's lease before the next starts.
      if (i === 0) await Bun.sleep(500);
    }
    const urls = nodes.map((n) => n.url);
    const cpuBefore = nodes.map((n) => cpuSeconds(n.proc.pid));
    const busBefore = layout === "alone" ? [] : await Promise.all(nodes.map(busCounters));
    const startedAt = performance.now();
    const result =
      load === "bots"
        ? await runBots(urls, nodes[0]!.proc.pid, BOTS, DURATION, 2, `http://127.0.0.1:${nodes[0]!.port}/healthz`)
        : await runChat(urls, nodes[0]!.proc.pid, { clients: Number(values["chat-clients"]), senders: Number(values["chat-senders"]), rate: Number(values["chat-rate"]), duration: DURATION });
    const seconds = (performance.now() - startedAt) / 1000;
    const busAfter = layout === "alone" ? [] : await Promise.all(nodes.map(busCounters));
    const delivered = (result.deliveredByNode as number[] | undefined) ?? [];
    const figures = nodes.map((n, i) => {
      const before = busBefore[i];
      const after = busAfter[i];
      return {
        cpuSeconds: cpuSeconds(n.proc.pid) - cpuBefore[i]!,
        deliveries: delivered[i] ?? NaN,
        busMessagesOutPerSecond: before && after ? (after.messagesOut - before.messagesOut) / seconds : 0,
        busKBOutPerSecond: before && after ? (after.bytesOut - before.bytesOut) / 1024 / seconds : 0,
        busMessagesInPerSecond: before && after ? (after.messagesIn - before.messagesIn) / seconds : 0,
      };
    });
    return { code: code.name, layout, load, result, nodes: figures };
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const baseline = values.baseline ? checkoutBaseline(values.baseline) : undefined;
const redis = await TestRedis.start();
const rows: Row[] = [];
try {
  const codes = [...(baseline ? [{ name: `baseline ${values.baseline}`, binary: buildAt(baseline.dir) }] : []), { name: `this code (${gitCommit()})`, binary: built }];
  for (const load of ["bots", "chat"] as const) {
    for (const layout of LAYOUTS) {
      for (const code of codes) {
        const row = await measure(code, layout, load, redis);
        console.error(JSON.stringify(row));
        rows.push(row);
        await redis.flush();
      }
    }
  }
} finally {
  await redis.destroy();
  baseline?.remove();
}

const layoutName = (layout: string) => (layout === "alone" ? "one server, no Redis" : `${layout} node${layout === "1" ? "" : "s"}`);
const f = (n: number, digits = 1) => n.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });
console.log(`\nbench:cluster, ${DURATION} s per run; machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, bun ${Bun.version}; load generator: 2 worker processes\n`);
console.log(`Bots: ${BOTS} in one world, spread evenly over the nodes`);
console.log("| code | layout | bots in the world, players each saw (fewest) | updates got, worst bot-player pair | median | gap p99 ms | node | its CPU s | its clients' updates/s | bus msgs/s out | bus KB/s out | bus msgs/s in |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const row of rows.filter((r) => r.load === "bots")) {
  const r = row.result;
  row.nodes.forEach((n, i) => {
    const head = i === 0 ? `| ${row.code} | ${layoutName(row.layout)} | ${BOTS - (r.connectErrors as number)}, ${r.minPlayersSeenByABot} | ${((r.updateFractionMin as number) * 100).toFixed(1)}% | ${((r.updateFractionMedian as number) * 100).toFixed(1)}% | ${r.updateGapP99Ms} ` : "| | | | | | ";
    console.log(`${head}| ${i + 1} | ${f(n.cpuSeconds, 2)} | ${f(n.deliveries / (r.seconds as number), 0)} | ${f(n.busMessagesOutPerSecond)} | ${f(n.busKBOutPerSecond)} | ${f(n.busMessagesInPerSecond)} |`);
  });
}
console.log(`\nLobby chat: ${values["chat-clients"]} clients spread over the nodes, ${values["chat-senders"]} of them sending ${values["chat-rate"]}/s`);
console.log("| code | layout | sent | delivered | lost | deliveries/s | latency p50 ms | p99 ms | node | its CPU s | bus msgs/s out | bus KB/s out |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const row of rows.filter((r) => r.load === "chat")) {
  const r = row.result;
  row.nodes.forEach((n, i) => {
    const head = i === 0 ? `| ${row.code} | ${layoutName(row.layout)} | ${r.sent} | ${r.delivered} | ${r.lost} | ${f(r.deliveriesPerSecond as number, 0)} | ${r.p50Ms} | ${r.p99Ms} ` : "| | | | | | | | ";
    console.log(`${head}| ${i + 1} | ${f(n.cpuSeconds, 2)} | ${f(n.busMessagesOutPerSecond)} | ${f(n.busKBOutPerSecond)} |`);
  });
}
printRecord("bench:cluster", { rows });
process.exit(0);
