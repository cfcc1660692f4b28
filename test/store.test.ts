// The two stores behave alike to the last detail; PostgreSQL's own cases: concurrent writers, start-up
// errors, carrying a SQLite database over, and the database going away in the middle of play.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Reason } from "../src/accounts/rules.ts";
import { WORLD_ROOM, type WorldRoom } from "../src/games/radius-rumble/world-room.ts";
import { newChat } from "../src/packets/index.ts";
import { openStore } from "../src/store/open.ts";
import { PostgresStore } from "../src/store/postgres.ts";
import { SCHEMA_VERSION as PG_SCHEMA_VERSION } from "../src/store/postgres-schema.ts";
import { SCHEMA_VERSION as SQLITE_SCHEMA_VERSION } from "../src/store/sqlite-schema.ts";
import { StoreOpenError, UserExistsError, type Store } from "../src/store/store.ts";
import { freePort, TestPostgres } from "../src/testing/postgres.ts";
import { startServerProcess } from "../src/testing/server-process.ts";
import { describePostgres, describeStores, LogCapture, login, register, radiusRumble, startTestServer, storeOptions, TestClient, testPostgres, waitFor } from "./helpers.ts";

const MAIN = join(import.meta.dir, "..", "src", "main.ts");
const FIXTURE = join(import.meta.dir, "fixtures", "series-v0.12-db.sqlite");

/** Runs the server's command line to its end. */
function cli(...args: string[]) {
  const result = Bun.spawnSync([process.execPath, MAIN, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, DATABASE_URL: "" } });
  return { code: result.exitCode, out: result.stdout.toString(), err: result.stderr.toString() };
}

describeStores("store", (kind) => {
  const dirs: string[] = [];
  const stores: Store[] = [];
  let databaseUrl = "";
  let dataDir = "";
  /** Another store on the same database: what a second connection, or a second node, sees. */
  async function open(): Promise<Store> {
    const store = await openStore({ dataDir, databaseUrl }, new LogCapture().logger, { exclusive: false });
    stores.push(store);
    return store;
  }
  beforeAll(async () => {
    databaseUrl = (await storeOptions(kind)).databaseUrl ?? "";
    dataDir = mkdtempSync(join(tmpdir(), "mmo-store-"));
    dirs.push(dataDir);
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test("names are unique case-insensitively: of 20 registrations of one name at once, on two stores, exactly one succeeds", async () => {
    const [a, b] = [await open(), await open()];
    const spellings = ["Racer", "racer", "RACER", "rAcEr"];
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).createAccount(spellings[i % 4]!, "hash", i)));
    expect(results.filter((r) => r.status === "fulfilled").length).toBe(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(UserExistsError);
    const winner = (results.find((r) => r.status === "fulfilled") as PromiseFulfilledResult<{ userId: number; name: string }>).value;
    expect(await a.findAccount("RACER")).toMatchObject({ userId: winner.userId, name: winner.name });
  });

  test("a database whose schema is newer than the server stops the start, saying so", async () => {
    const store = await open();
    if (databaseUrl) {
      await (store as PostgresStore).sql`INSERT INTO schema_migrations (version) VALUES (99)`;
    } else {
      const db = new Database(join(dataDir, "db.sqlite"));
      db.run("PRAGMA user_version = 99");
      db.close();
    }
    const attempt = openStore({ dataDir, databaseUrl }, new LogCapture().logger, { exclusive: false });
    await expect(attempt).rejects.toThrow(StoreOpenError);
    await expect(attempt).rejects.toThrow(new RegExp(`schema version 99, newer than this server's ${kind === "postgres" ? PG_SCHEMA_VERSION : SQLITE_SCHEMA_VERSION}: upgrade mmo-server`));
  });
});

test("servers that share a new SQLite file on purpose and open it at once migrate it once", async () => {
  // A few rounds: the race (one of them switching the file to WAL while another opens it) is rare.
  for (let round = 0; round < 3; round++) {
    const dir = mkdtempSync(join(tmpdir(), "mmo-migrate-race-"));
    try {
      const code = `import { SqliteStore } from ${JSON.stringify(join(import.meta.dir, "..", "src", "store", "sqlite.ts"))}; await SqliteStore.open(${JSON.stringify(dir)}, { exclusive: false }).close();`;
      const procs = Array.from({ length: 6 }, () => Bun.spawn([process.execPath, "-e", code], { stdout: "pipe", stderr: "pipe" }));
      const codes = await Promise.all(procs.map((p) => p.exited));
      const errors = await Promise.all(procs.map((p) => new Response(p.stderr).text()));
      expect(errors.filter((e) => e !== "")).toEqual([]);
      expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
      const db = new Database(join(dir, "db.sqlite"), { readonly: true });
      expect((db.query("PRAGMA user_version").get() as { user_version: number }).user_version).toBe(SQLITE_SCHEMA_VERSION);
      expect((db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test("a second server on the same data folder refuses to start, naming the folder and the process; a dead server's lock is taken over", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mmo-lock-"));
  try {
    const first = await startServerProcess([process.execPath, MAIN], ["--data-dir", dir]);
    const second = cli("--port", "0", "--data-dir", dir);
    expect(second.code).toBe(2);
    expect(second.err.trim().split("\n")).toHaveLength(1);
    expect(second.err).toContain(`the data folder ${dir} is in use by another mmo-server (process ${first.proc.pid})`);
    first.proc.kill("SIGKILL");
    await first.proc.exited;
    const third = await startServerProcess([process.execPath, MAIN], ["--data-dir", dir]);
    third.proc.kill("SIGTERM");
    expect(await third.proc.exited).toBe(0);
    expect(existsSync(join(dir, "mmo-server.lock"))).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 20_000);

test("a SQLite database that cannot be opened stops the start naming the file, exit 2", () => {
  const dir = mkdtempSync(join(tmpdir(), "mmo-store-"));
  try {
    const notADatabase = join(dir, "db.sqlite");
    writeFileSync(notADatabase, "this is not a database, but text that is long enough to have a header page\n".repeat(20));
    const result = cli("--port", "0", "--data-dir", dir);
    expect(result.code).toBe(2);
    expect(result.err.trim().split("\n")).toHaveLength(1);
    expect(result.err).toContain(`cannot open the database ${notADatabase}`);
    expect(result.err).not.toContain("cannot start on");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describePostgres("PostgreSQL", () => {
  test("the schema's versions are recorded in schema_migrations; a second start migrates nothing", async () => {
    const url = await (await testPostgres()).createDatabase();
    const first = await PostgresStore.open(url, new LogCapture().logger);
    await first.close();
    const second = await PostgresStore.open(url, new LogCapture().logger);
    const rows = await second.sql`SELECT version FROM schema_migrations ORDER BY version`;
    expect(rows.map((r: { version: number }) => r.version)).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));
    await second.close();
  });

  test("an unreachable database or another scheme stops the start: one line naming the host, never the password, exit 2", async () => {
    const port = freePort();
    const down = cli("--port", "0", "--database-url", `postgres://mmo:hunter2secret@127.0.0.1:${port}/game`);
    expect(down.code).toBe(2);
    expect(down.err.trim().split("\n")).toHaveLength(1);
    expect(down.err).toContain(`cannot use the database at 127.0.0.1:${port}/game`);
    expect(down.err + down.out).not.toContain("hunter2secret");

    const other = cli("--database-url", "mysql://mmo:hunter2secret@127.0.0.1/game");
    expect(other.code).toBe(2);
    expect(other.err).toContain("expected a postgres:// or postgresql:// URL, got a mysql: URL");
    expect(other.err).not.toContain("hunter2secret");

    const shown = cli("--print-config", "--database-url", "postgresql://mmo:hunter2secret@db.example:5433/game");
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/^database-url +"postgresql:\/\/mmo:\*\*\*@db\.example:5433\/game"/m);
    expect(shown.out).not.toContain("hunter2secret");
  });

  test("import-sqlite carries the series' players over with their passwords, once; a second run is refused and changes nothing", async () => {
    const url = await (await testPostgres()).createDatabase();
    // The database has a user of its own already: the imported ids come after it.
    const before = await PostgresStore.open(url, new LogCapture().logger);
    await before.createAccount("Native", "hash", 7);
    await before.close();

    const first = cli("import-sqlite", FIXTURE, "--database-url", url);
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    expect(first.out).toContain("Imported 2 user(s) and 2 player(s)");
    expect(first.out).not.toContain("test-secret");

    const again = cli("import-sqlite", FIXTURE, "--database-url", url);
    expect(again.code).toBe(1);
    expect(again.err).toContain("already in the database");
    expect(again.err).toContain("nothing was imported");

    const srv = await startTestServer(radiusRumble, { databaseUrl: url });
    try {
      const [alice, bob, carol] = await Promise.all([TestClient.connect(srv.url), TestClient.connect(srv.url), TestClient.connect(srv.url)]);
      expect(await login(alice, "Alice", "correct horse battery staple")).toBe("ok");
      expect(await login(bob, "bob", "hunter2")).toBe("ok");
      expect(await srv.services.store.findAccount("alice")).toMatchObject({ name: "Alice", color: 3368703 });
      expect(await srv.services.store.findAccount("BOB")).toMatchObject({ name: "Bob", color: -16711936 });
      // A registration after the import gets a fresh id, after the imported ones.
      expect(await register(carol, "Newcomer", "password")).toBe("ok");
      const ids = await (srv.services.store as PostgresStore).sql`SELECT username FROM users ORDER BY id`;
      expect(ids.map((r: { username: string }) => r.username)).toEqual(["native", ...seriesUsernames(), "newcomer"]);
    } finally {
      await srv.stop();
    }
  });

  test("import-sqlite carries the accounts of devices, bans, the audit log and what players have among themselves too: a device logs in to the same account after the move (its friend, notification, party and messages with it), a banned one is refused; a second run is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmo-import-devices-"));
    try {
      const sqlite = await openStore({ dataDir: dir, databaseUrl: "" }, new LogCapture().logger);
      const made = await sqlite.createIdentityAccount({ provider: "device", subject: "moving-device-0123456789" }, "#device-moving", "Guest-MOVING", 5);
      // A banned account moves with its ban, and the audit log with it.
      const banned = await sqlite.createIdentityAccount({ provider: "device", subject: "banned-device-0123456789" }, "#device-banned", "Guest-BANNED", 5);
      await sqlite.setBan(banned.userId, { reason: "cheating", until: 0, operator: "alice", at: 1 });
      await sqlite.audit({ at: 1, operator: "alice", action: "ban", target: banned.userId, before: null, after: '{"reason":"cheating"}' });
      // What players have among themselves moves too: a friend, a kept notification, a party, a direct message.
      await sqlite.social.changePair(made.userId, banned.userId, () => ({ ab: "friend", ba: "friend", result: undefined }));
      await sqlite.social.addNotification({ userId: made.userId, kind: "gift", senderId: 0, subject: "moved", content: "", createdAt: 1 });
      expect(await sqlite.social.createParty("party-moving", made.userId)).toBe(true);
      await sqlite.social.postMessage({ channel: `dm:${made.userId}:${banned.userId}`, senderId: banned.userId, senderName: "Guest-BANNED", text: "see you there", sentAt: 1 }, 200);
      await sqlite.close();
      const url = await (await testPostgres()).createDatabase();
      const first = cli("import-sqlite", join(dir, "db.sqlite"), "--database-url", url);
      expect(first.err).toBe("");
      expect(first.code).toBe(0);
      const again = cli("import-sqlite", join(dir, "db.sqlite"), "--database-url", url);
      expect(again.code).toBe(1);
      expect(again.err).toContain("nothing was imported");
      const srv = await startTestServer(radiusRumble, { databaseUrl: url });
      try {
        const c = await TestClient.connect(srv.url);
        c.send({ $case: "deviceLoginRequest", value: { deviceId: "moving-device-0123456789", color: 0 } });
        expect((await c.expect("identityResponse")).value).toEqual({ ok: true, reason: "", userId: made.userId, displayName: "Guest-MOVING", created: false });
        expect((await c.expect("notification")).value).toMatchObject({ kind: "gift", subject: "moved" });
        expect((await c.expect("partyState")).value).toMatchObject({ partyId: "party-moving", leaderId: made.userId });
        c.send({ $case: "friendsRequest", value: {} });
        expect((await c.expect("friendsList")).value.friends).toMatchObject([{ userId: banned.userId, state: "friend" }]);
        c.send({ $case: "channelHistoryRequest", value: { channel: "", withUserId: banned.userId, before: 0, limit: 0 } });
        expect((await c.expect("channelHistory")).value.lines).toMatchObject([{ senderId: banned.userId, text: "see you there" }]);
        const other = await TestClient.connect(srv.url);
        other.send({ $case: "deviceLoginRequest", value: { deviceId: "banned-device-0123456789", color: 0 } });
        expect((await other.expect("identityResponse")).value).toMatchObject({ ok: false, reason: "Banned for good: cheating" });
        other.close();
        expect(await srv.services.store.auditLog(5)).toMatchObject([{ operator: "alice", action: "ban", target: banned.userId }]);
        c.close();
      } finally {
        await srv.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("PostgreSQL restarts in the middle of play: logins fail cleanly, the lobby and world go on, a best score waits and is saved, the server reconnects", async () => {
    const pg = await TestPostgres.start();
    const srv = await startTestServer(radiusRumble, { databaseUrl: await pg.createDatabase(), seed: 7 });
    try {
      const [player, other, lobby] = await Promise.all([TestClient.connect(srv.url), TestClient.connect(srv.url), TestClient.connect(srv.url)]);
      expect(await register(player, "Survivor", "password")).toBe("ok");
      expect(await register(other, "Other", "password")).toBe("ok");
      expect(await login(player, "Survivor", "password")).toBe("ok");
      expect(await login(other, "Other", "password")).toBe("ok");

      pg.stopServer("fast");
      // Logins and registrations get the protocol's answers...
      const latecomer = await TestClient.connect(srv.url);
      expect(await login(latecomer, "survivor", "password")).toBe(Reason.badLogin);
      expect(await register(latecomer, "Latecomer", "password")).toBe(Reason.registerFailed);
      // ...the lobby chats...
      latecomer.send(newChat("anyone there?"));
      expect((await lobby.expect("chat")).value.msg).toBe("anyone there?");
      // ...and the world plays: the player eats a spore and grows, seen by the other.
      const world = srv.rooms.get<WorldRoom>(WORLD_ROOM)!.world;
      const me = world.players.get(player.id)!;
      const spore = [...world.spores.values()][0]!;
      spore.x = me.x + 25;
      spore.y = me.y;
      player.send({ $case: "sporeConsumed", value: { sporeId: spore.id } });
      expect(await other.expect("sporeConsumed")).toEqual({ senderId: player.id, value: { sporeId: spore.id } });
      other.packets.splice(0);
      await Bun.sleep(500);
      expect(other.packets.filter((p) => p.msg?.$case === "player" && p.msg.value.id === player.id).length).toBeGreaterThanOrEqual(7);
      const score = world.players.get(player.id)!.bestScore;
      expect(score).toBeGreaterThan(0);
      // Leaving the world saves its best score: the database is down, so it is kept.
      await player.close();
      await waitFor(() => srv.logs.has("Board hiscores: saving 1 record(s) failed; kept"), 3000, "the failed save to be logged");
      expect(srv.logs.has("The database is unreachable")).toBe(true);

      pg.startServer();
      // The server reconnects by itself; the kept score reaches the database.
      const { userId } = (await srv.services.store.findAccount("survivor"))!;
      const saved = async () => (await srv.services.store.boards.loadRecords("hiscores", 0).catch(() => [])).find((r) => r.owner === userId)?.score;
      await waitFor(async () => (await saved()) === score, 8000, "the kept best score to be saved");
      expect(srv.logs.lines.filter((l) => l.includes("The database is unreachable"))).toHaveLength(1);
      expect(srv.logs.has("The database is reachable again")).toBe(true);
      expect(await login(latecomer, "survivor", "password")).toBe("ok");
      expect(await register(lobby, "Latecomer", "password")).toBe("ok");
    } finally {
      await srv.stop();
      pg.destroy();
    }
  }, 30_000);
});

function seriesUsernames(): string[] {
  const db = new Database(FIXTURE, { readonly: true });
  try {
    return (db.query("SELECT username FROM users ORDER BY id").all() as { username: string }[]).map((r) => r.username);
  } finally {
    db.close();
  }
}
