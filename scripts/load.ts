// The load generator's command line. The scenarios live in src/testing/load/, one file each, run by
// its coordinator against a running server, loopback only, bounded in count and time, with worker
// processes so that the load uses both cores:
//   chat   N clients in the lobby, S of them sending R msg/s for D s; every client counts deliveries
//          and their latency (each message carries its send time)
//   idle   N idle connections; the server's RSS before and after (from /proc/PID/status)
//   churn  connect/close cycles, every third without a close frame; ids handed out twice
//   bots   N bots register, log in and steer at random; each counts the player updates it gets
// Usage: bun scripts/load.ts SCENARIO --url ws://127.0.0.1:PORT/ws [--pid SERVER_PID] [options]
//   chat:  --clients 1000 --senders 40 --rate 10 --duration 10 [--warmup W: measure the D s after W s]
//   idle:  --clients 15000
//   churn: --cycles 5000
//   bots:  --bots 200 --duration 10
//   all:   --workers 2
// Prints a progress line on stderr and one JSON result line on stdout.
import { parseArgs } from "node:util";
import { runBots } from "../src/testing/load/bots.ts";
import { runChat } from "../src/testing/load/chat.ts";
import { runChurn } from "../src/testing/load/churn.ts";
import type { ScenarioResult } from "../src/testing/load/coordinator.ts";
import { runIdle } from "../src/testing/load/idle.ts";

const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  allowPositionals: true,
  options: {
    url: { type: "string" },
    pid: { type: "string" },
    workers: { type: "string", default: "2" },
    clients: { type: "string" },
    senders: { type: "string", default: "40" },
    rate: { type: "string", default: "10" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "0" },
    cycles: { type: "string", default: "5000" },
    bots: { type: "string", default: "200" },
  },
});
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
  result = await runChat(url, pid, { clients: Number(values.clients ?? 1000), senders: Number(values.senders), rate: Number(values.rate), duration: Number(values.duration), warmup: Number(values.warmup) }, workers);
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
