// `bun run bench:store`: the two stores side by side with 100,000 players in the database. SQLite is
// filled directly; PostgreSQL (a real server the script starts in a temporary folder, as the tests do)
// gets the same players through `import-sqlite`. Measured, on each store, for a few seconds each:
// account lookups (the store's part of a login), whole logins (lookup and argon2id verification),
// the top-10 board, and the search for a player ranked about 50,000 (its rank, then its board), both
// from the in-memory ranking over the store (with the time to load it at start): operations a second
// with several requests in flight, and the latency of a lone request.
// Options: --players 100000 --seconds 2 --concurrency 8
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { verifyPassword } from "../src/accounts/passwords.ts";
import { Logger } from "../src/log.ts";
import { importSqlite } from "../src/store/import-sqlite.ts";
import { PostgresStore } from "../src/store/postgres.ts";
import { DB_FILE, SqliteStore } from "../src/store/sqlite.ts";
import { fillPlayers, playerName } from "../src/testing/players.ts";
import { Leaderboards } from "../src/store/leaderboards.ts";
import type { Store } from "../src/store/store.ts";
import { measure as measureOp, type Figure } from "../src/testing/throughput.ts";
import { postgresUnavailable, TestPostgres } from "../src/testing/postgres.ts";
import { seededRandom } from "../src/rooms/random.ts";
import { printRecord } from "../src/testing/record.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { players: { type: "string", default: "100000" }, seconds: { type: "string", default: "2" }, concurrency: { type: "string", default: "8" } },
});
const PLAYERS = Number(values.players);
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const PASSWORD = "bench password";
const log = new Logger({ level: "warn", format: "text", write: (line) => console.error(line) });

/** A SQLite database of PLAYERS players; returns the name ranked about PLAYERS / 2. */
async function fill(dataDir: string): Promise<string> {
  return (await fillPlayers(dataDir, PLAYERS, PASSWORD))[Math.floor(PLAYERS / 2) - 1]!;
}

/** Throughput with CONCURRENCY requests in flight (or `concurrency`), latency of a lone request. */
const measure = (op: (i: number) => Promise<unknown>, concurrency = CONCURRENCY) => measureOp(op, SECONDS, concurrency);

async function benchmark(store: Store, ranked: string): Promise<Record<string, Figure>> {
  const t = performance.now();
  const boards = new Leaderboards(store.boards, log);
  const hiscores = boards.define({ id: "hiscores" });
  await boards.load();
  console.error(`${store.description}: ranking of ${hiscores.size} players loaded in ${Math.round(performance.now() - t)} ms; rank of ${ranked}: ${hiscores.search(ranked)}`);
  const random = seededRandom(2);
  const anyName = () => playerName(1 + Math.floor(random() * PLAYERS));
  return {
    "account lookups": await measure(() => store.findAccount(anyName())),
    "logins (lookup + argon2id verify)": await measure(async () => verifyPassword(PASSWORD, (await store.findAccount(anyName()))?.passwordHash), 2),
    "hiscore board, top 10": await measure(async () => hiscores.top(10)),
    "search, a player ranked ~50,000": await measure(async () => hiscores.top(10, Math.max(0, hiscores.search(ranked)! - 5))),
  };
}

const dataDir = mkdtempSync(join(tmpdir(), "mmo-bench-store-"));
let pg: TestPostgres | undefined;
try {
  let t = performance.now();
  const ranked = await fill(dataDir);
  console.error(`SQLite filled with ${PLAYERS} players in ${Math.round(performance.now() - t)} ms`);
  const sqlite = SqliteStore.open(dataDir);
  const results: [string, Record<string, Figure>][] = [];
  results.push(["SQLite", await benchmark(sqlite, ranked)]);
  await sqlite.close();

  const missing = postgresUnavailable();
  if (missing) {
    console.error(`PostgreSQL skipped: ${missing}`);
  } else {
    pg = await TestPostgres.start();
    const postgres = await PostgresStore.open(await pg.createDatabase(), log);
    t = performance.now();
    await importSqlite(join(dataDir, DB_FILE), postgres);
    await postgres.sql`ANALYZE`;
    console.error(`PostgreSQL: import-sqlite of ${PLAYERS} players in ${Math.round(performance.now() - t)} ms`);
    results.push(["PostgreSQL", await benchmark(postgres, ranked)]);
    await postgres.close();
  }

  console.log(`\nmmo-server bench:store: ${PLAYERS} players, per s with ${CONCURRENCY} requests in flight (logins: 2), latency of a lone request; ${SECONDS} s each; machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, bun ${Bun.version}`);
  console.log(`| operation | ${results.map(([name]) => `${name}: per s | p50 ms | p99 ms`).join(" | ")} |`);
  console.log(`|---|${results.map(() => "---|---|---").join("|")}|`);
  for (const op of Object.keys(results[0]![1])) {
    const cells = results.map(([, r]) => `${Math.round(r[op]!.perSecond).toLocaleString("en")} | ${r[op]!.p50.toFixed(2)} | ${r[op]!.p99.toFixed(2)}`);
    console.log(`| ${op} | ${cells.join(" | ")} |`);
  }
  printRecord("bench:store", { results });
} finally {
  pg?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}
