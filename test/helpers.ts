// The testkit (src/testing) for the suites, and the services they need (PostgreSQL, Redis).
import { afterAll, beforeAll, describe } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../src/config.ts";
import { radiusRumble } from "../src/games/radius-rumble/index.ts";
import { postgresUnavailable, TestPostgres } from "../src/testing/postgres.ts";
import { godotUnavailable } from "../src/testing/godot.ts";
import { redisUnavailable, TestRedis } from "../src/testing/redis.ts";
import { startServerProcess, type ServerProcess } from "../src/testing/server-process.ts";
import { TestClient } from "../src/testing/client.ts";

export * from "../src/testing/client.ts";
export { LogCapture, startTestServer, type TestServer } from "../src/testing/server.ts";
/** The game most suites run. */
export { radiusRumble };

/** The stores a server can use; the suites that touch accounts and hiscores run on each. */
export type StoreKind = "sqlite" | "postgres";

let sharedPostgres: Promise<TestPostgres> | undefined;

/** The test PostgreSQL of this run of the tests: started on first use, stopped when the run ends (test/setup.ts). */
export function testPostgres(): Promise<TestPostgres> {
  sharedPostgres ??= TestPostgres.start();
  return sharedPostgres;
}

export async function stopTestPostgres(): Promise<void> {
  const pg = sharedPostgres;
  sharedPostgres = undefined;
  (await pg?.catch(() => undefined))?.destroy();
}

/** Options that put a test server on that store: SQLite in a temporary folder, or a fresh PostgreSQL database. */
export async function storeOptions(kind: StoreKind): Promise<Partial<Config>> {
  return kind === "postgres" ? { databaseUrl: await (await testPostgres()).createDatabase() } : {};
}

/**
 * Declares a suite that needs a service installed on the machine. Where it is missing, the suite is
 * skipped, saying so; with the environment variable `require` set to 1 (as in CI) that is an error.
 */
function describeNeeding(name: string, missing: string | undefined, require: string, body: () => void): void {
  if (!missing) return describe(name, body);
  if (process.env[require] === "1") throw new Error(`${missing}, and ${require}=1 requires it`);
  console.warn(`Skipped "${name}": ${missing}`);
  describe.skip(name, body);
}

/** A suite that needs PostgreSQL (MMO_REQUIRE_POSTGRES=1 makes its absence an error). */
export function describePostgres(name: string, body: () => void): void {
  describeNeeding(name, postgresUnavailable(), "MMO_REQUIRE_POSTGRES", body);
}

/** A suite that needs redis-server (MMO_REQUIRE_REDIS=1 makes its absence an error). */
export function describeRedis(name: string, body: () => void): void {
  describeNeeding(name, redisUnavailable(), "MMO_REQUIRE_REDIS", body);
}

/** A suite that needs a headless Godot 4 in GODOT4_BIN (MMO_REQUIRE_GODOT=1 makes its absence an error). */
export function describeGodot(name: string, body: () => void): void {
  describeNeeding(name, godotUnavailable(), "MMO_REQUIRE_GODOT", body);
}

/** Where the browser tests find Chromium (Debian's package), unless CHROMIUM_PATH says otherwise. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** A suite that needs Chromium (MMO_REQUIRE_CHROMIUM=1 makes its absence an error). */
export function describeChromium(name: string, body: () => void): void {
  const missing = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (scripts/ensure-services.sh installs it; npm test runs it first)`;
  describeNeeding(name, missing, "MMO_REQUIRE_CHROMIUM", body);
}

/** Cluster nodes run from the source, so that a stale ./mmo-server never stands in for the code under test. */
export const NODE_FROM_SOURCE = [process.execPath, join(import.meta.dir, "..", "src", "main.ts")];

/** The `cluster` field of a node's /healthz. */
export interface ClusterHealth {
  node: string;
  nodes: string[];
  bus: "up" | "down";
  rooms: Record<string, string>;
}

export async function clusterOf(node: { port: number }): Promise<ClusterHealth> {
  return ((await (await fetch(`http://127.0.0.1:${node.port}/healthz`)).json()) as { cluster: ClusterHealth }).cluster;
}

/** Declares a suite once per store (PostgreSQL's as describePostgres does). */
export function describeStores(name: string, body: (kind: StoreKind) => void): void {
  describe(`${name} [sqlite]`, () => body("sqlite"));
  describePostgres(`${name} [postgres]`, () => body("postgres"));
}


/**
 * A suite's cluster: a redis-server started before its tests, node processes from the source on one
 * data folder, all stopped after them (call it inside a describeRedis).
 */
export function clusterOnRedis(prefix: string) {
  const cluster = {
    redis: undefined as unknown as TestRedis,
    dataDir: "",
    nodes: [] as ServerProcess[],
    /** Starts a node named `name` (with more options, such as --game). */
    async node(name: string, ...options: string[]): Promise<ServerProcess> {
      const node = await startServerProcess(NODE_FROM_SOURCE, [...options, "--redis-url", cluster.redis.url, "--node-name", name, "--data-dir", cluster.dataDir, "--log-level", "warn"]);
      cluster.nodes.push(node);
      return node;
    },
  };
  beforeAll(async () => {
    cluster.redis = await TestRedis.start();
    cluster.dataDir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await Promise.all(cluster.nodes.splice(0).map((n) => n.stop()));
    await cluster.redis.destroy();
    rmSync(cluster.dataDir, { recursive: true, force: true });
  });
  return cluster;
}

/**
 * What a server's hiscores say of `name` through the series' search (a fresh connection): its entry,
 * or the deny reason, or "not on the board sent".
 */
export async function lookUpHiscore(url: string, name: string): Promise<{ name: string; score: number } | string> {
  const c = await TestClient.connect(url);
  try {
    c.send({ $case: "hiscoreBoardRequest", value: {} });
    await c.expect("hiscoreBoard");
    c.send({ $case: "searchHiscore", value: { name } });
    const answer = await c.nextOf(["hiscoreBoard", "denyResponse"]);
    if (answer.msg?.$case === "denyResponse") return answer.msg.value.reason;
    const entry = answer.msg?.$case === "hiscoreBoard" ? answer.msg.value.hiscores.find((h) => h.name === name) : undefined;
    return entry ? { name: entry.name, score: entry.score } : "not on the board sent";
  } finally {
    await c.close();
  }
}
