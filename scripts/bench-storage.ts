// `bun run bench:storage`: the storage engine and the leaderboards, measured.
// 1. 100,000 accounts with an object each (and 50 inventory items for 2,000 of them), on SQLite and
//    on a PostgreSQL the script starts (filled by import-sqlite): reads, conditional writes, batches,
//    listings and leaderboard submits per second with 8 in flight, and the latency of a lone one.
// 2. A board of 1,000,000 records in memory: the time to load it, its memory per record, top and
//    around reads per second, and submits per second (each written through to SQLite).
// 3. The hiscores benchmark's canary (lobby chat every 20 ms, a player's world updates, /healthz) on a
//    real server process of those 100,000 accounts, quiet and then while the server itself makes
//    1,000 storage writes a second (read, then write only if the version is unchanged), per store.
// Options: --accounts 100000 --records 1000000 --seconds 2 --concurrency 8 --writes 1000 --canary-seconds 10
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultConfig } from "../src/config.ts";
import { Logger } from "../src/log.ts";
import { seededRandom } from "../src/rooms/random.ts";
import { importSqlite } from "../src/store/import-sqlite.ts";
import { Leaderboards } from "../src/store/leaderboards.ts";
import { PostgresStore } from "../src/store/postgres.ts";
import { DB_FILE, SqliteStore } from "../src/store/sqlite.ts";
import { Storage } from "../src/store/storage.ts";
import type { Store } from "../src/store/store.ts";
import { canary, type CanaryFigures } from "../src/testing/load/canary.ts";
import { fillPlayers, playerName } from "../src/testing/players.ts";
import { postgresUnavailable, TestPostgres } from "../src/testing/postgres.ts";
import { healthz, startServerProcess } from "../src/testing/server-process.ts";
import { measure, type Figure } from "../src/testing/throughput.ts";
import { printRecord } from "../src/testing/record.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    accounts: { type: "string", default: "100000" },
    records: { type: "string", default: "1000000" },
    seconds: { type: "string", default: "2" },
    concurrency: { type: "string", default: "8" },
    writes: { type: "string", default: "1000" },
    "canary-seconds": { type: "string", default: "10" },
  },
});
const ACCOUNTS = Number(values.accounts);
const RECORDS = Number(values.records);
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const WRITES = Number(values.writes);
const CANARY_SECONDS = Number(values["canary-seconds"]);
const PASSWORD = "bench password";
const WITH_ITEMS = Math.min(2000, ACCOUNTS);
const ITEMS = 50;
const log = new Logger({ level: "warn", format: "text", write: (line) => console.error(line) });
const limits = defaultConfig();

interface Profile {
  gold: number;
  visits: number;
  name: string;
}

/** Every account's profile and 50 items for the first WITH_ITEMS, through the storage engine. */
async function fillObjects(storage: Storage): Promise<void> {
  const profiles = storage.collection<Profile>("profile");
  const items = storage.collection<{ kind: string; count: number }>("inventory");
  for (let start = 1; start <= ACCOUNTS; start += 500) {
    const ops = [];
    for (let owner = start; owner < Math.min(start + 500, ACCOUNTS + 1); owner++) ops.push(profiles.op("main", { gold: owner % 1000, visits: 0, name: playerName(owner) }, { owner }));
    const result = await storage.write(ops);
    if (!result.ok) throw new Error(`filling profiles failed: ${JSON.stringify(result)}`);
  }
  for (let owner = 1; owner <= WITH_ITEMS; owner++) {
    const result = await storage.write(Array.from({ length: ITEMS }, (_, i) => items.op(`item${String(i).padStart(3, "0")}`, { kind: `k${i % 7}`, count: i }, { owner })));
    if (!result.ok) throw new Error(`filling items failed: ${JSON.stringify(result)}`);
  }
}

async function storeFigures(store: Store): Promise<Record<string, Figure>> {
  const storage = new Storage(store.objects, limits);
  const profiles = storage.collection<Profile>("profile");
  const items = storage.collection<{ kind: string; count: number }>("inventory");
  const fresh = storage.collection<{ n: number }>("fresh");
  const boards = new Leaderboards(store.boards, log);
  const hiscores = boards.define({ id: "hiscores" });
  await boards.load();
  const random = seededRandom(5);
  const anyOwner = () => 1 + Math.floor(random() * ACCOUNTS);
  // Keys no run has written (the PostgreSQL run's database holds what the SQLite run wrote).
  const run = crypto.randomUUID().slice(0, 8);
  let unique = 0;
  const m = (op: (i: number) => Promise<unknown>) => measure(op, SECONDS, CONCURRENCY);
  const figures = {
    "read one object": await m(() => profiles.get("main", anyOwner())),
    "read 10 objects at once": await m(() => storage.read(Array.from({ length: 10 }, () => ({ collection: "profile", key: "main", owner: anyOwner() })))),
    "write only if absent (a new object)": await m(async () => {
      const result = await fresh.put(`${run}-${++unique}`, { n: unique }, { owner: anyOwner(), ifAbsent: true });
      if (!result.ok) throw new Error(JSON.stringify(result));
    }),
    "read, then write only if version V": await m(async () => {
      const owner = anyOwner();
      const found = (await profiles.get("main", owner))!;
      await profiles.put("main", { ...found.value, visits: found.value.visits + 1 }, { owner, ifVersion: found.version });
    }),
    "batch of 10 writes, all or none": await m(() => storage.write(Array.from({ length: 10 }, () => profiles.op("main", { gold: 1, visits: 1, name: "x" }, { owner: anyOwner() })))),
    "list 20 of an account's 50 items": await m(() => items.list({ owner: 1 + Math.floor(random() * WITH_ITEMS), limit: 20 })),
    "leaderboard submit (best), written through": await m(() => hiscores.submit(anyOwner(), Math.floor(random() * 200_000), { name: "x" })),
  };
  await boards.close();
  return figures;
}

/** RECORDS records on one board, written straight into SQLite; then loaded, read and written. */
async function millionRecords(dataDir: string): Promise<Record<string, string>> {
  const db = new Database(join(dataDir, DB_FILE));
  const insert = db.query("INSERT INTO leaderboard_records (board, owner, name, score, metadata, period, seq, updated_at) VALUES ('million', ?, ?, ?, NULL, 0, 1, 0)");
  const random = seededRandom(11);
  db.transaction(() => {
    for (let owner = 1; owner <= RECORDS; owner++) insert.run(owner, `racer${owner}`, Math.floor(random() * 10_000_000));
  })();
  db.close();
  const store = SqliteStore.open(dataDir, { exclusive: false });
  const boards = new Leaderboards(store.boards, log);
  const board = boards.define({ id: "million" });
  Bun.gc(true);
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.memoryUsage().rss;
  const t = performance.now();
  await boards.load();
  const loadMs = performance.now() - t;
  Bun.gc(true);
  const heapPerRecord = (process.memoryUsage().heapUsed - heapBefore) / board.size;
  const rssPerRecord = (process.memoryUsage().rss - rssBefore) / board.size;
  const anyOwner = () => 1 + Math.floor(random() * RECORDS);
  const m = (op: () => Promise<unknown>) => measure(op, SECONDS, CONCURRENCY);
  const top = await m(async () => board.top(10));
  const around = await m(async () => board.around(anyOwner(), 10));
  const rank = await m(async () => board.rankOf(anyOwner()));
  const submit = await m(() => board.submit(anyOwner(), Math.floor(random() * 10_000_000), { name: "racer" }));
  await boards.close();
  await store.close();
  const row = (f: Figure) => `${Math.round(f.perSecond).toLocaleString("en")}/s (p50 ${f.p50.toFixed(3)} ms, p99 ${f.p99.toFixed(3)} ms)`;
  return {
    records: board.size.toLocaleString("en"),
    "load from SQLite": `${Math.round(loadMs)} ms`,
    "memory per record": `${Math.round(heapPerRecord)} B heap, ${Math.round(rssPerRecord)} B RSS`,
    "top 10": row(top),
    "10 around a random owner": row(around),
    "rank of a random owner": row(rank),
    "submit (best), written through to SQLite": row(submit),
  };
}

interface CanaryPhase extends CanaryFigures {
  name: string;
  writesPerSecond: number;
  conflicts: number;
  failed: number;
}

async function canaryPhase(name: string, dataDir: string, databaseUrl: string | undefined, writes: number): Promise<CanaryPhase> {
  const args = ["--data-dir", dataDir, "--log-level", "warn", "--writes-per-second", String(writes), "--accounts", String(ACCOUNTS)];
  if (databaseUrl) args.push("--database-url", databaseUrl);
  const srv = await startServerProcess([process.execPath, join(import.meta.dir, "storage-writer-server.ts")], args);
  try {
    type Done = { written: number; conflicts: number; failed: number };
    const done = async () => ({ at: performance.now(), ...((await healthz(srv.port)).storage as Done) });
    let window: [Awaited<ReturnType<typeof done>>, Awaited<ReturnType<typeof done>>] | undefined;
    // The writes are counted over the canary's own phase.
    const figures = await canary(srv, { name: playerName(1), password: PASSWORD }, CANARY_SECONDS, (until) => [
      (async () => {
        const first = await done();
        await Bun.sleep(until - performance.now());
        window = [first, await done()];
      })(),
    ]);
    const [first, last] = window!;
    return { name, ...figures, writesPerSecond: (last.written - first.written) / ((last.at - first.at) / 1000), conflicts: last.conflicts - first.conflicts, failed: last.failed - first.failed };
  } finally {
    await srv.stop();
  }
}

const fmt = (f: Figure) => `${Math.round(f.perSecond).toLocaleString("en")} | ${f.p50.toFixed(2)} | ${f.p99.toFixed(2)}`;
const dataDir = mkdtempSync(join(tmpdir(), "mmo-bench-storage-"));
let pg: TestPostgres | undefined;
try {
  let t = performance.now();
  await fillPlayers(dataDir, ACCOUNTS, PASSWORD);
  const sqlite = SqliteStore.open(dataDir);
  await fillObjects(new Storage(sqlite.objects, limits));
  console.error(`SQLite: ${ACCOUNTS} accounts with their objects in ${Math.round(performance.now() - t)} ms`);
  const stores: [string, Record<string, Figure>][] = [["SQLite", await storeFigures(sqlite)]];
  await sqlite.close();

  let databaseUrl: string | undefined;
  const missing = postgresUnavailable();
  if (missing) {
    console.error(`PostgreSQL skipped: ${missing}`);
  } else {
    pg = await TestPostgres.start();
    databaseUrl = await pg.createDatabase();
    const postgres = await PostgresStore.open(databaseUrl, log);
    t = performance.now();
    const imported = await importSqlite(join(dataDir, DB_FILE), postgres);
    await postgres.sql`ANALYZE`;
    console.error(`PostgreSQL: import-sqlite of ${imported.users} accounts, ${imported.objects} objects and ${imported.records} records in ${Math.round(performance.now() - t)} ms`);
    stores.push(["PostgreSQL", await storeFigures(postgres)]);
    await postgres.close();
  }

  const phases: CanaryPhase[] = [];
  for (const [store, url] of [["SQLite", undefined], ...(databaseUrl ? [["PostgreSQL", databaseUrl]] : [])] as [string, string | undefined][]) {
    phases.push(await canaryPhase(`${store}: quiet (baseline)`, dataDir, url, 0));
    phases.push(await canaryPhase(`${store}: ${WRITES} writes/s`, dataDir, url, WRITES));
  }
  const million = await millionRecords(dataDir);

  console.log(`\nmmo-server bench:storage: ${ACCOUNTS} accounts; per s with ${CONCURRENCY} in flight, latency of a lone one; ${SECONDS} s each; machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, bun ${Bun.version}`);
  console.log(`| operation | ${stores.map(([name]) => `${name}: per s | p50 ms | p99 ms`).join(" | ")} |`);
  console.log(`|---|${stores.map(() => "---|---|---").join("|")}|`);
  for (const op of Object.keys(stores[0]![1])) console.log(`| ${op} | ${stores.map(([, r]) => fmt(r[op]!)).join(" | ")} |`);

  console.log(`\nA board of ${RECORDS.toLocaleString("en")} records (SQLite), ${CONCURRENCY} in flight:`);
  console.log("| figure | value |\n|---|---|");
  for (const [figure, value] of Object.entries(million)) console.log(`| ${figure} | ${value} |`);

  console.log(`\nThe canary on a server process with ${ACCOUNTS} accounts, ${CANARY_SECONDS} s a phase; the writes are made by the server (read, then write only if the version is unchanged):`);
  console.log("| phase | storage writes/s | conflicts | failed | lobby chat p50 ms | p99 ms | max ms | lost | world updates/s | /healthz max ms |");
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const p of phases) {
    console.log(
      `| ${p.name} | ${Math.round(p.writesPerSecond)} | ${p.conflicts} | ${p.failed} | ${p.chatP50.toFixed(2)} | ${p.chatP99.toFixed(2)} | ${p.chatMax.toFixed(2)} | ${p.chatsLost} | ${p.worldHz.toFixed(1)} | ${p.healthzMaxMs.toFixed(1)} |`,
    );
  }
  const loaded = phases.filter((p) => !p.name.includes("quiet"));
  const ok = loaded.every((p) => p.chatP99 < 50 && p.chatsLost === 0 && p.worldHz >= 19 && p.writesPerSecond >= WRITES * 0.95);
  console.log(`\ntarget (under ${WRITES} writes/s: lobby chat p99 < 50 ms, none lost, world at 20 Hz, the writes all done): ${ok ? "met" : "NOT met"}`);
  printRecord("bench:storage", { met: ok, stores, million, phases });
} finally {
  pg?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}
