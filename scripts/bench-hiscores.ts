// `bun run bench:hiscores`: can hiscore searches at a client's full allowed rate hold the server?
// 200,000 players in the database (SQLite, written directly); a real server process on loopback; a
// canary pair chatting in the lobby (every 20 ms, latency measured), a player in the world (its own
// updates counted: 20 Hz is the tick), /healthz polled. Phases of the same length: quiet; searchers
// sending search_hiscore for players ranked in the bottom half at their full message rate
// (--rate-limit, 100/s); and ten times as many searchers at 10/s each (within their budget of
// searches, so that every search is answered with a board). The canary chats on a fixed schedule
// whatever the answers (a chat that never arrives counts as lost). Prints one table, the quiet phase
// as the baseline.
// Options: --players 200000 --searchers 4 --seconds 10 --binary PATH (another build, to compare)
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { decodePacket, encodePacket } from "../src/packets/index.ts";
import { seededRandom } from "../src/rooms/random.ts";
import { canary, type CanaryFigures } from "../src/testing/load/canary.ts";
import { fillPlayers } from "../src/testing/players.ts";
import { serverCommand, startServerProcess, type ServerProcess } from "../src/testing/server-process.ts";
import { printRecord } from "../src/testing/record.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    players: { type: "string", default: "200000" },
    searchers: { type: "string", default: "4" },
    seconds: { type: "string", default: "10" },
    binary: { type: "string" },
  },
});
const PLAYERS = Number(values.players);
const SEARCHERS = Number(values.searchers);
const SECONDS = Number(values.seconds);
const FULL_RATE = 100; // the default --rate-limit: what a client may send
const PASSWORD = "bench password";

interface Phase extends CanaryFigures {
  name: string;
  boardsPerSecond: number;
  refusedPerSecond: number;
}

/** A client in BrowsingHiscores sending searches at its full rate, counting the answers. */
async function searcher(url: string, names: string[], rate: number, seed: number, answers: { boards: number; refused: number }, until: number): Promise<void> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)));
  ws.onmessage = (ev) => {
    const kind = decodePacket(new Uint8Array(ev.data as ArrayBuffer)).msg?.$case;
    if (kind === "hiscoreBoard") answers.boards++;
    else if (kind === "denyResponse") answers.refused++;
  };
  ws.send(encodePacket(0, { $case: "hiscoreBoardRequest", value: {} }));
  const random = seededRandom(seed);
  const start = performance.now();
  for (let sent = 0; performance.now() < until; sent++) {
    // Paced to the rate limit, so that none is dropped as a flood: the server answers every one.
    const due = start + (sent * 1000) / rate;
    if (due > performance.now()) await Bun.sleep(due - performance.now());
    const name = names[Math.floor(names.length / 2 + random() * (names.length / 2))]!;
    ws.send(encodePacket(0, { $case: "searchHiscore", value: { name } }));
  }
  ws.close();
}

async function phase(srv: ServerProcess, names: string[], name: string, searchers: number, rate: number): Promise<Phase> {
  const answers = { boards: 0, refused: 0 };
  const figures = await canary(srv, { name: names[0]!, password: PASSWORD }, SECONDS, (until) =>
    Array.from({ length: searchers }, (_, i) => searcher(srv.url, names, rate, i + 1, answers, until)),
  );
  return { name, ...figures, boardsPerSecond: answers.boards / figures.elapsed, refusedPerSecond: answers.refused / figures.elapsed };
}

const dataDir = mkdtempSync(join(tmpdir(), "mmo-bench-hiscores-"));
let srv: ServerProcess | undefined;
try {
  const t = performance.now();
  const names = await fillPlayers(dataDir, PLAYERS, PASSWORD);
  console.error(`${PLAYERS} players written in ${Math.round(performance.now() - t)} ms`);
  const command = values.binary ? [values.binary] : serverCommand();
  const startedAt = performance.now();
  srv = await startServerProcess(command, ["--data-dir", dataDir, "--log-level", "warn"]);
  console.error(`${command.join(" ")} listening after ${Math.round(performance.now() - startedAt)} ms (the board loaded)`);
  const phases = [
    await phase(srv, names, "quiet (baseline)", 0, 0),
    await phase(srv, names, `${SEARCHERS} searchers at ${FULL_RATE}/s`, SEARCHERS, FULL_RATE),
    await phase(srv, names, `${SEARCHERS * 10} searchers at 10/s`, SEARCHERS * 10, 10),
  ];
  console.log(`\nmmo-server bench:hiscores: ${PLAYERS} players; searchers ask for players ranked in the bottom half, ${SECONDS} s a phase; machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, bun ${Bun.version}; server: ${command.join(" ")}`);
  console.log("| phase | lobby chat p50 ms | p99 ms | max ms | lost | world updates/s | /healthz max ms | boards/s | refused/s |");
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const p of phases) {
    console.log(
      `| ${p.name} | ${p.chatP50.toFixed(2)} | ${p.chatP99.toFixed(2)} | ${p.chatMax.toFixed(2)} | ${p.chatsLost} | ${p.worldHz.toFixed(1)} | ${p.healthzMaxMs.toFixed(1)} | ${Math.round(p.boardsPerSecond)} | ${Math.round(p.refusedPerSecond)} |`,
    );
  }
  const ok = phases.slice(1).every((p) => p.chatP99 < 50 && p.chatsLost === 0 && p.worldHz >= 19);
  console.log(`\ntarget (lobby chat p99 < 50 ms, none lost, world at 20 Hz while searching): ${ok ? "met" : "NOT met"}`);
  printRecord("bench:hiscores", { met: ok, phases });
} finally {
  if (srv) await srv.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
