// `bun run bench:matches`: what Duel matches under way cost a cluster's Redis. Three nodes of
// `--game duel` from the source on one Redis the script starts; first idle, then with --matches
// matches under way (2 × --matches players logged in by device, spread over the nodes, each asking
// for a match; nobody throws, so the matches stay for the window): Redis's commands a second (its
// own count, INFO stats), and each node's CPU. With --baseline REV the same is measured, in the same
// run, on a checkout of that commit, for the figures before a change.
// Options: --matches 1000 --seconds 10 --baseline REV
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { RedisClient } from "bun";
import { loginDevice, TestClient } from "../src/testing/client.ts";
import { cpuSeconds } from "../src/testing/load/coordinator.ts";
import { checkoutBaseline } from "../src/testing/baseline.ts";
import { TestRedis } from "../src/testing/redis.ts";
import { ROOT, startServerProcess, type ServerProcess } from "../src/testing/server-process.ts";
import { gitCommit, printRecord } from "../src/testing/record.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    matches: { type: "string", default: "1000" },
    seconds: { type: "string", default: "10" },
    baseline: { type: "string" },
  },
});
const MATCHES = Number(values.matches);
const SECONDS = Number(values.seconds);
const NODES = 3;

interface Figures {
  code: string;
  idlePerSecond: number;
  matchesUnderWay: number;
  loadedPerSecond: number;
  perMatchPerSecond: number;
  cpuPercent: number[];
}

/** Redis's own count of the commands it processed. */
async function commands(redis: RedisClient): Promise<number> {
  const info = String(await redis.send("INFO", ["stats"]));
  return Number(/total_commands_processed:(\d+)/.exec(info)![1]);
}

async function commandsPerSecond(redis: RedisClient, nodes: ServerProcess[]): Promise<{ perSecond: number; cpu: number[] }> {
  const before = await commands(redis);
  const cpuBefore = nodes.map((n) => cpuSeconds(n.proc.pid));
  const t = performance.now();
  await Bun.sleep(SECONDS * 1000);
  const elapsed = (performance.now() - t) / 1000;
  // The INFO calls themselves are two commands.
  return { perSecond: ((await commands(redis)) - before - 1) / elapsed, cpu: nodes.map((n, i) => ((cpuSeconds(n.proc.pid) - cpuBefore[i]!) / elapsed) * 100) };
}

async function measure(code: string, root: string, redisServer: TestRedis): Promise<Figures> {
  const dataDir = mkdtempSync(join(tmpdir(), "mmo-bench-matches-"));
  const nodes: ServerProcess[] = [];
  const clients: TestClient[] = [];
  const redis = new RedisClient(redisServer.url);
  try {
    await redis.send("FLUSHALL", []);
    for (let i = 0; i < NODES; i++) {
      const args = ["--game", "duel", "--data-dir", dataDir, "--log-level", "warn", "--register-burst", "1000000", "--register-per-minute", "1000000", "--max-clients-per-ip", "0", "--max-clients", "0"];
      args.push("--redis-url", redisServer.url, "--node-name", `m${i + 1}`, "--cluster-secret", "bench:matches' secret, 16+");
      nodes.push(await startServerProcess([process.execPath, join(root, "src", "main.ts")], args));
    }
    await Bun.sleep(1000);
    const idle = await commandsPerSecond(redis, nodes);
    // 2 × MATCHES players, spread over the nodes, 100 at a time.
    for (let i = 0; i < 2 * MATCHES; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, 2 * MATCHES - i) }, async (_, j) => {
          const c = await TestClient.connect(nodes[(i + j) % NODES]!.url);
          const answer = await loginDevice(c, `bench-matches-${i + j}-${crypto.randomUUID()}`, 30_000);
          if (!answer.ok) throw new Error(`a login was refused: ${answer.reason}`);
          return c;
        }),
      );
      clients.push(...batch);
    }
    for (const c of clients) c.send({ $case: "matchRequest", value: {} });
    const started = await Promise.all(clients.map((c) => c.expect("matchStart", 60_000).then(() => 1, () => 0)));
    const matchesUnderWay = started.reduce((a: number, b: number) => a + b, 0) / 2;
    for (const c of clients) c.keeping = false;
    const loaded = await commandsPerSecond(redis, nodes);
    return {
      code,
      idlePerSecond: idle.perSecond,
      matchesUnderWay,
      loadedPerSecond: loaded.perSecond,
      perMatchPerSecond: (loaded.perSecond - idle.perSecond) / Math.max(1, matchesUnderWay),
      cpuPercent: loaded.cpu,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(nodes.map((n) => n.stop()));
    redis.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const redisServer = await TestRedis.start();
const results: Figures[] = [];
const baseline = values.baseline ? checkoutBaseline(values.baseline) : undefined;
try {
  if (baseline) results.push(await measure(`baseline ${values.baseline}`, baseline.dir, redisServer));
  const commit = gitCommit();
  results.push(await measure(`this code (${commit})`, ROOT, redisServer));
} finally {
  await redisServer.destroy();
  baseline?.remove();
}

console.log(`\nmmo-server bench:matches (${new Date().toISOString()}): ${NODES} nodes of --game duel on one Redis, ${MATCHES} matches asked for, ${SECONDS} s windows; machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, bun ${Bun.version}`);
console.log(`command: bun run bench:matches -- --matches ${MATCHES} --seconds ${SECONDS}${values.baseline ? ` --baseline ${values.baseline}` : ""}`);
console.log("| code | Redis commands/s idle | matches under way | Redis commands/s with them | per match per s | node CPU % |");
console.log("|---|---|---|---|---|---|");
for (const r of results) {
  console.log(`| ${r.code} | ${r.idlePerSecond.toFixed(1)} | ${r.matchesUnderWay} | ${Math.round(r.loadedPerSecond).toLocaleString("en")} | ${r.perMatchPerSecond.toFixed(2)} | ${r.cpuPercent.map((c) => c.toFixed(0)).join(" / ")} |`);
}
printRecord("bench:matches", { results });
