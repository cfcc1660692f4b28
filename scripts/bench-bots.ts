// `bun run bench:bots`: bots in one world. For each bot count, a fresh ./mmo-server (built first)
// and N bots that register, log in and steer at random; each bot counts the player updates it gets
// from every player. Targets, both on what the bots see: every bot gets >= 95% of the expected 20
// updates/s from every player, and the gap between two updates of a player is <= 100 ms (two ticks) at
// p99. Also shown, from the server's /healthz: its tick in wall time (step and fan-out), the step alone
// and the longest stretch a tick held the event loop. Prints a table and the largest count meeting the targets.
// Options: --bots 50,100,200,300 --duration 10
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runBots } from "../src/testing/load/bots.ts";
import type { ScenarioResult } from "../src/testing/load/coordinator.ts";
import { ROOT, startServerProcess } from "../src/testing/server-process.ts";
import { buildAt } from "../src/testing/baseline.ts";
import { printRecord } from "../src/testing/record.ts";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { bots: { type: "string", default: "50,100,200,300" }, duration: { type: "string", default: "10" } } });
const counts = values.bots.split(",").map(Number);
const duration = Number(values.duration);

const binary = buildAt(ROOT);

/** Every bot connects and registers from this one address: past the default limits per address, most could not. */
const BOTS_MAY_REGISTER = ["--register-burst", "100000", "--max-clients-per-ip", "0"];

const results: ScenarioResult[] = [];
for (const bots of counts) {
  const dataDir = mkdtempSync(join(tmpdir(), "mmo-bots-"));
  const srv = await startServerProcess([binary], ["--data-dir", dataDir, "--log-level", "warn", "--seed", "1", ...BOTS_MAY_REGISTER]);
  try {
    const result = await runBots(srv.url, srv.proc.pid, bots, duration, 2, `http://127.0.0.1:${srv.port}/healthz`);
    console.error(JSON.stringify(result));
    results.push(result);
  } finally {
    await srv.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const updatesOk = (r: ScenarioResult) => (r.updateFractionMin as number) >= 0.95 && r.minPlayersSeenByABot === r.bots;
const gapOk = (r: ScenarioResult) => (r.updateGapP99Ms as number) <= 100;
console.log(`\nmmo-server bots: ${duration} s per run; machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, bun ${Bun.version}`);
console.log("| bots | updates got, worst bot-player pair | gap p99 ms | tick p50 ms | tick p99 ms | step p99 ms | longest loop block p99 ms | updates ≥ 95% | gap p99 ≤ 100 ms |");
console.log("|------|------|------|------|------|------|------|------|------|");
for (const r of results) {
  console.log(
    `| ${r.bots} | ${((r.updateFractionMin as number) * 100).toFixed(1)}% | ${r.updateGapP99Ms} | ${r.serverTickP50Ms} | ${r.serverTickP99Ms} | ${r.serverTickStepP99Ms} | ${r.serverTickLongestBlockP99Ms} | ${updatesOk(r) ? "pass" : "FAIL"} | ${gapOk(r) ? "pass" : "FAIL"} |`,
  );
}
const best = Math.max(0, ...results.filter(updatesOk).map((r) => r.bots as number));
const bestBoth = Math.max(0, ...results.filter((r) => updatesOk(r) && gapOk(r)).map((r) => r.bots as number));
console.log(`\nlargest bot count meeting the update target: ${best}; meeting both targets: ${bestBoth}`);
printRecord("bench:bots", { best, bestBoth, results });
