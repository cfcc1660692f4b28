// `bun run bench:fanout`: how long one line to a topic of N sockets holds the server's event loop,
// published at once (one topic, as the lobby) and through the Hub's sliced topics (a chat channel's:
// one slice a turn). A Bun server with the real Hub, N WebSocket clients in a child process on
// loopback; each line is followed by a chain of immediates, and the longest gap between two of them
// is that line's longest turn of the loop. Alternating batches of 20 lines each way, medians.
// Options: --clients 1010 --lines 20 --rounds 4
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { Hub } from "../src/hub/hub.ts";
import { Stats } from "../src/hub/stats.ts";
import { Logger } from "../src/log.ts";
import { printRecord } from "../src/testing/record.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    clients: { type: "string", default: "1010" },
    lines: { type: "string", default: "20" },
    rounds: { type: "string", default: "4" },
    // The clients' own process: the server to connect to.
    "clients-of": { type: "string" },
  },
});
const CLIENTS = Number(values.clients);
const LINES = Number(values.lines);
const ROUNDS = Number(values.rounds);

if (values["clients-of"]) {
  let open = 0;
  for (let i = 0; i < CLIENTS; i++) {
    const ws = new WebSocket(values["clients-of"]);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      if (++open === CLIENTS) console.log("OPEN");
    };
  }
  setInterval(() => {}, 1000);
} else {
  const WHOLE = "lobby";
  const SLICED = "ch:bench";
  const hub = new Hub(new Logger({ level: "warn", format: "text", write: () => {} }), new Stats());
  hub.slicePrefix("ch:");
  let nextId = 0;
  const server = Bun.serve<{ id: number }>({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req, s) => (s.upgrade(req, { data: { id: ++nextId } }) ? undefined : new Response("upgrade failed", { status: 400 })),
    websocket: {
      open(ws) {
        ws.subscribe(WHOLE);
        ws.subscribe(hub.sliceOf(SLICED, ws.data.id));
      },
      message() {},
    },
  });
  hub.attach((topic, bytes) => void server.publish(topic, bytes));
  const clients = Bun.spawn([process.execPath, import.meta.path, "--clients", String(CLIENTS), "--clients-of", `ws://127.0.0.1:${server.port}/`], { stdout: "pipe", stderr: "inherit" });
  const reader = clients.stdout.getReader();
  for (let seen = ""; !seen.includes("OPEN"); ) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the clients' process ended");
    seen += new TextDecoder().decode(value);
  }

  const line = new Uint8Array(120);
  /** One line, then 40 turns of the loop: the longest of them, ms. */
  const longestTurn = (sliced: boolean) =>
    new Promise<number>((resolve) => {
      let last = performance.now();
      let longest = 0;
      let turns = 0;
      const turn = () => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
        if (++turns < 40) setImmediate(turn);
        else resolve(longest);
      };
      if (sliced) hub.publishBytes(SLICED, line);
      else server.publish(WHOLE, line);
      setImmediate(turn);
    });

  const samples: Record<"whole" | "sliced", number[]> = { whole: [], sliced: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const way of ["whole", "sliced"] as const) {
      for (let i = 0; i < LINES; i++) {
        samples[way].push(await longestTurn(way === "sliced"));
        await Bun.sleep(50);
      }
    }
  }
  clients.kill();
  await server.stop(true);

  const at = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
  const rows = (["whole", "sliced"] as const).map((way) => ({ way, p50Ms: +at(samples[way], 0.5).toFixed(2), p99Ms: +at(samples[way], 0.99).toFixed(2), maxMs: +Math.max(...samples[way]).toFixed(2) }));
  console.log(`\nmmo-server bench:fanout: one 120-byte line to ${CLIENTS} sockets, ${ROUNDS} × ${LINES} lines each way, alternating; machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, bun ${Bun.version}`);
  console.log("| published | longest turn of the loop p50 ms | p99 ms | max ms |");
  console.log("|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.way === "whole" ? "at once (one topic)" : "in slices (Hub.slicePrefix)"} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} |`);
  printRecord("bench:fanout", { clients: CLIENTS, lines: LINES, rounds: ROUNDS, rows });
}
