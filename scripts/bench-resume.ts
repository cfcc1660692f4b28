// `bun run bench:resume`: what a held session costs. N players (1,000 by default) logged in to a
// server process of Duel (so that no world's N-squared fan-out hides the sessions' own cost), each
// with a resume token, all connected through a TCP proxy; the proxy is cut (every connection dropped,
// no close frame), then all N resume at once on new connections. Prints the
// server's RSS with no clients, with N live and with N held (per session), and the time from the
// first resume_request to the last resume_response (and each one's latency).
// Options: --sessions 1000 --binary PATH (default: ./mmo-server if built, else the source)
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { login, TestClient, waitFor } from "../src/testing/client.ts";
import { Histogram } from "../src/testing/histogram.ts";
import { fillPlayers, playerName } from "../src/testing/players.ts";
import { healthz, serverCommand, startServerProcess } from "../src/testing/server-process.ts";
import { TcpProxy } from "../src/testing/tcp-proxy.ts";
import { printRecord } from "../src/testing/record.ts";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { sessions: { type: "string", default: "1000" }, binary: { type: "string" } } });
const SESSIONS = Number(values.sessions);
const PASSWORD = "bench password";
/** Logins at once: the hash queue takes 64 waiting per address. */
const AT_ONCE = 16;

const dataDir = mkdtempSync(join(tmpdir(), "mmo-bench-resume-"));
const command = values.binary ? [values.binary] : serverCommand();
const kib = (n: number) => `${Math.round(n).toLocaleString("en")} KiB`;
try {
  await fillPlayers(dataDir, SESSIONS, PASSWORD);
  const srv = await startServerProcess(command, ["--game", "duel", "--data-dir", dataDir, "--log-level", "warn", "--max-clients", "0", "--max-clients-per-ip", "0"]);
  const proxy = TcpProxy.start(srv.port);
  try {
    await Bun.sleep(500);
    const idle = srv.rssKiB();
    const players: TestClient[] = [];
    for (let start = 1; start <= SESSIONS; start += AT_ONCE) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(AT_ONCE, SESSIONS - start + 1) }, async (_, i) => {
          const c = await TestClient.connect(proxy.url);
          if ((await login(c, playerName(start + i), PASSWORD)) !== "ok") throw new Error(`${playerName(start + i)} cannot log in`);
          return c;
        }),
      );
      players.push(...batch);
    }
    const tokens = await Promise.all(
      players.map(async (c) => {
        c.send({ $case: "resumeTokenRequest", value: {} });
        return (await c.expect("resumeToken", 10_000)).value.token;
      }),
    );
    await Bun.sleep(1000);
    const live = srv.rssKiB();
    proxy.cut();
    await waitFor(async () => (await healthz(srv.port)).heldSessions === SESSIONS, 20_000, "every session to be held");
    await Bun.sleep(1000);
    const held = srv.rssKiB();

    const fresh = await Promise.all(tokens.map(() => TestClient.connect(srv.url)));
    const latency = new Histogram();
    const started = performance.now();
    await Promise.all(
      fresh.map(async (c, i) => {
        const sent = performance.now();
        c.send({ $case: "resumeRequest", value: { token: tokens[i]! } });
        const { value } = await c.expect("resumeResponse", 30_000);
        if (!value.ok) throw new Error(`resume ${i} refused: ${value.reason}`);
        latency.record(performance.now() - sent);
      }),
    );
    const allMs = performance.now() - started;
    const after = await healthz(srv.port);
    await Promise.all(fresh.map((c) => c.close()));

    console.log(`\nmmo-server bench:resume: ${SESSIONS} players logged in (Duel, Ready); machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, bun ${Bun.version}; server: ${command.join(" ")}`);
    console.log("| figure | value |\n|---|---|");
    console.log(`| server RSS, no clients | ${kib(idle)} |`);
    console.log(`| with ${SESSIONS} players live | ${kib(live)} (${((live - idle) / SESSIONS).toFixed(2)} KiB each) |`);
    console.log(`| with their ${SESSIONS} sessions held (connections gone) | ${kib(held)} (${((held - idle) / SESSIONS).toFixed(2)} KiB each over no clients; ${((held - live) / SESSIONS).toFixed(2)} KiB each against live) |`);
    console.log(`| ${SESSIONS} resumes at once, first request to last response | ${allMs.toFixed(0)} ms |`);
    console.log(`| one resume's latency in that burst, p50 / p99 | ${latency.percentile(0.5).toFixed(1)} ms / ${latency.percentile(0.99).toFixed(1)} ms |`);
    console.log(`| held sessions after, clients | ${after.heldSessions} / ${after.clients} |`);
    printRecord("bench:resume", { sessions: SESSIONS, idleKiB: idle, liveKiB: live, heldKiB: held, allResumesMs: allMs, resumeP50Ms: latency.percentile(0.5), resumeP99Ms: latency.percentile(0.99), after });
  } finally {
    proxy.stop();
    await srv.stop();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
