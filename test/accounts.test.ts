// Accounts, states and hiscores over real sockets, on each store: a real SQLite file in a temporary
// folder, and a real PostgreSQL database.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { SQL } from "bun";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newChat, newDisconnect } from "../src/packets/index.ts";
import { Reason } from "../src/accounts/rules.ts";
import { startServerProcess } from "../src/testing/server-process.ts";
import { SCHEMA_VERSION as SQLITE_SCHEMA_VERSION } from "../src/store/sqlite-schema.ts";
import { describeStores, login, register, radiusRumble, startTestServer, storeOptions, TestClient, waitFor, type TestServer } from "./helpers.ts";

const FIXTURE = join(import.meta.dir, "fixtures", "series-v0.12-db.sqlite");

let unique = 0;
const freshName = (prefix = "user") => `${prefix}${++unique}`;

/** The user's row and its player's, as the store keeps them. */
async function rawAccountRow(s: TestServer, username: string): Promise<Record<string, unknown>> {
  const query = "SELECT u.username, u.password_hash, p.name, p.color, p.best_score FROM users u JOIN players p ON p.user_id = u.id WHERE u.username = $1";
  if (s.config.databaseUrl) {
    const sql = new SQL(s.config.databaseUrl, { max: 1 });
    try {
      return (await sql.unsafe(query, [username]))[0];
    } finally {
      await sql.close();
    }
  }
  const db = new Database(join(s.config.dataDir, "db.sqlite"), { readonly: true });
  try {
    return db.query(query.replace("$1", "?")).get(username) as Record<string, unknown>;
  } finally {
    db.close();
  }
}

describeStores("accounts", (kind) => {
  let srv: TestServer;
  beforeAll(async () => {
    // The suite registers many more accounts from one address than a classroom would.
    srv = await startTestServer(radiusRumble, { ...(await storeOptions(kind)), registerBurst: 10_000 });
  });
  afterAll(() => srv.stop());

  const connect = () => TestClient.connect(srv.url);

  describe("registration", () => {
    test("every reason string of the protocol (docs/protocol.md), byte-for-byte", async () => {
      const c = await connect();
      expect(await register(c, "", "password")).toBe("Invalid username: empty");
      expect(await register(c, "a".repeat(21), "password")).toBe("Invalid username: too long");
      // 11 characters, 22 bytes: lengths count bytes, as the series does.
      expect(await register(c, "é".repeat(11), "password")).toBe("Invalid username: too long");
      expect(await register(c, " padded", "password")).toBe("Invalid username: leading or trailing whitespace");
      expect(await register(c, "padded\t", "password")).toBe("Invalid username: leading or trailing whitespace");
    for (const name of ["two\nlines", "tab\there", "evil\u202Etxt.exe", "zero\u200Bwidth", "bell\u0007", "bom\uFEFF!", "para\u2029x"]) {
      expect(await register(c, name, "password")).toBe("Invalid username: control or invisible characters");
    }
      expect(await register(c, "nopassword", "")).toBe(Reason.passwordEmpty);
      // --min-password-length (8 by default) counts characters: seven are refused, eight of two bytes each are not.
      expect(await register(c, "shortpassword", "1234567")).toBe("Invalid password: too short (at least 8 characters)");
      expect(await register(c, freshName("Accents"), "éééééééé")).toBe("ok");
      expect(await register(c, "longpassword", "p".repeat(73))).toBe("Invalid password: too long (at most 72 bytes)");
      expect(await register(c, "a".repeat(20), "password")).toBe("ok");
      expect(await register(c, "Twice", "password")).toBe("ok");
      expect(await register(c, "twice", "other password")).toBe("User already exists");
      expect(await register(c, "TWICE", "other password")).toBe("User already exists");
    });

    test("register then log in, with any case of the name; the client stays in Connected after registering", async () => {
      const [c, lobby] = await Promise.all([connect(), connect()]);
      const name = freshName("Mixed");
      expect(await register(c, name, "s3cret password", 0xff00ff)).toBe("ok");
      c.send(newChat("still in the lobby"));
      expect((await lobby.expect("chat")).value.msg).toBe("still in the lobby");
      expect(await login(c, name.toUpperCase(), "s3cret password")).toBe("ok");
    });

    test("the user is stored lower-cased with a slow hash, the player in its original case", async () => {
      const c = await connect();
      const name = freshName("CamelCase");
      expect(await register(c, name, "password", 1234)).toBe("ok");
      const row = await rawAccountRow(srv, name.toLowerCase());
      expect(row.username).toBe(name.toLowerCase());
      expect(String(row.password_hash)).toStartWith("$argon2id$");
      expect(row.name).toBe(name);
      expect(row.color).toBe(1234);
      expect(Number(row.best_score)).toBe(0);
    });

    test("quotes, wildcards, SQL and multi-byte names are data, stored and found literally", async () => {
      const c = await connect();
      const names = ["o'brien", 'say "hi"', "100%", "a_b", "x'); DROP TABLE users;--".slice(0, 20), "日本語"];
      for (const name of names) expect(await register(c, name, "password")).toBe("ok");
      for (const name of names) expect(await login(await connect(), name, "password")).toBe("ok");
      c.send({ $case: "hiscoreBoardRequest", value: {} });
      await c.expect("hiscoreBoard");
      for (const name of names) {
        c.send({ $case: "searchHiscore", value: { name } });
        const board = (await c.expect("hiscoreBoard")).value.hiscores;
        expect(board.map((h) => h.name)).toContain(name);
      }
      // Wildcards match only themselves.
      for (const pattern of ["%", "_", "a%", "100_"]) {
        c.send({ $case: "searchHiscore", value: { name: pattern } });
        expect((await c.expect("denyResponse")).value.reason).toBe(Reason.noSuchPlayer);
      }
    });
  });

  describe("login", () => {
    test("an unknown user and a wrong password get the same answer", async () => {
      const c = await connect();
      const name = freshName();
      expect(await register(c, name, "right password")).toBe("ok");
      expect(await login(c, name, "wrong")).toBe("Incorrect username or password");
      expect(await login(c, freshName("nobody"), "right password")).toBe("Incorrect username or password");
    });

    test("a second session of an account in the world is denied; after logout it may log in", async () => {
      const [first, second] = await Promise.all([connect(), connect()]);
      const name = freshName();
      expect(await register(first, name, "password")).toBe("ok");
      expect(await login(first, name, "password")).toBe("ok");
      expect(await login(second, name, "password")).toBe(Reason.alreadyLoggedIn);
      first.send(newDisconnect("logging out"));
      expect((await first.expect("id")).value.id).toBe(first.id);
      expect(await login(second, name, "password")).toBe("ok");
    });

    test("a session ends when its connection closes", async () => {
      const first = await connect();
      const name = freshName();
      expect(await register(first, name, "password")).toBe("ok");
      expect(await login(first, name, "password")).toBe("ok");
      await first.close();
      const again = await connect();
      await waitFor(() => !srv.hub.clients.has(first.id), 3000, "the first session to end");
      expect(await login(again, name, "password")).toBe("ok");
    });

    test("after 5 failures for a name within a minute, even the right password is refused for a minute", async () => {
      let now = 1_000_000;
      const realNow = srv.services.now;
      srv.services.now = () => now;
      try {
        const c = await connect();
        const name = freshName();
        expect(await register(c, name, "right password")).toBe("ok");
        for (let i = 0; i < 5; i++) expect(await login(c, name, "wrong")).toBe(Reason.badLogin);
        expect(await login(c, name, "right password")).toBe(Reason.badLogin);
        expect(srv.logs.has(`Login for "${name}" refused: too many failed attempts (from 127.0.0.1)`)).toBe(true);
        now += 61_000;
        expect(await login(c, name, "right password")).toBe("ok");
      } finally {
        srv.services.now = realNow;
      }
    });

    test("after 20 failures from one address in ten minutes, every login from it is refused for a minute", async () => {
      // A server of its own: the block covers every name from 127.0.0.1.
      const own = await startTestServer(radiusRumble, await storeOptions(kind));
      let now = 50_000_000;
      own.services.now = () => now;
      try {
        const c = await TestClient.connect(own.url);
        expect(await register(c, "blocked", "right password")).toBe("ok");
        for (let i = 0; i < 20; i++) {
          expect(await login(c, `ghost${i}`, "x")).toBe(Reason.badLogin);
          now += 10_000;
        }
        expect(await login(c, "blocked", "right password")).toBe(Reason.badLogin);
        now += 61_000;
        expect(await login(c, "blocked", "right password")).toBe("ok");
      } finally {
        await own.stop();
      }
    }, 20_000);
  });

  describe("in the world", () => {
    async function inGame(): Promise<TestClient> {
      const c = await connect();
      const name = freshName("player");
      expect(await register(c, name, "password")).toBe("ok");
      expect(await login(c, name, "password")).toBe("ok");
      return c;
    }

    test("chat goes to the other players only; lobby chat never reaches them", async () => {
      const [a, b, lobby] = [await inGame(), await inGame(), await connect()];
      a.send(newChat("in the world"));
      const chat = await b.expect("chat");
      expect(chat.senderId).toBe(a.id);
      expect(chat.value.msg).toBe("in the world");
      lobby.send(newChat("from the lobby"));
      await Bun.sleep(100);
      expect(a.packets.some((p) => p.msg?.$case === "chat")).toBe(false);
      expect(b.packets.some((p) => p.msg?.$case === "chat")).toBe(false);
      expect(lobby.packets.some((p) => p.msg?.$case === "chat")).toBe(false);
      await Promise.all([a.close(), b.close()]);
    });

    test("logout reaches the other players once, and the client is back in the lobby with its id", async () => {
      const [a, b] = [await inGame(), await inGame()];
      a.send(newDisconnect("see you"));
      const bye = await b.expect("disconnect");
      expect(bye.senderId).toBe(a.id);
      expect(bye.value.reason).toBe("see you");
      expect((await a.expect("id")).value.id).toBe(a.id);
      await a.roundTrip();
      await b.roundTrip();
      expect(b.take("disconnect")).toEqual([]);
      await Promise.all([a.close(), b.close()]);
    });

    test("a closed connection is told to the other players exactly once", async () => {
      const [a, b, c] = [await inGame(), await inGame(), await inGame()];
      await a.close();
      for (const other of [b, c]) {
        const bye = await other.expect("disconnect");
        expect(bye.senderId).toBe(a.id);
      }
      await b.roundTrip();
      expect(b.take("disconnect")).toEqual([]);
      await Promise.all([b.close(), c.close()]);
    });
  });

  describe("hiscores", () => {
    test("top 10 on entering, ordered by score then age; search centres the player; back to the lobby", async () => {
      const own = await startTestServer(radiusRumble, await storeOptions(kind));
      try {
        const c = await TestClient.connect(own.url);
        // 30 players; scores repeat so that ties need the age order.
        const names = Array.from({ length: 30 }, (_, i) => `P${String(i).padStart(2, "0")}`);
        for (const name of names) expect(await register(c, name, "password")).toBe("ok");
        const ids = await Promise.all(names.map(async (n) => (await own.services.store.findAccount(n))!.userId));
        const hiscores = own.services.leaderboards.get("hiscores")!;
        await Promise.all(names.map((name, i) => hiscores.submit(ids[i]!, 1000 - Math.floor(i / 2) * 10, { name })));
        // Expected order: by score descending, and the older (lower id) first among equals.
        const order = names.map((n, i) => ({ n, s: 1000 - Math.floor(i / 2) * 10, i })).sort((x, y) => y.s - x.s || x.i - y.i);

        c.send({ $case: "hiscoreBoardRequest", value: {} });
        const top = (await c.expect("hiscoreBoard")).value.hiscores;
        expect(top.map((h) => [h.rank, h.name, h.score])).toEqual(order.slice(0, 10).map((o, i) => [i + 1, o.n, o.s]));

        // P21 is 22nd: the board starts at offset 17, so it is the 5th entry, ranks 18..27.
        c.send({ $case: "searchHiscore", value: { name: "p21" } });
        const around = (await c.expect("hiscoreBoard")).value.hiscores;
        expect(around.map((h) => h.rank)).toEqual([18, 19, 20, 21, 22, 23, 24, 25, 26, 27]);
        expect(around[4]).toEqual({ rank: 22, name: "P21", score: order[21]!.s });

        // Near the top the board cannot start before rank 1; near the bottom it runs short.
        c.send({ $case: "searchHiscore", value: { name: "P01" } });
        expect((await c.expect("hiscoreBoard")).value.hiscores[0]!.rank).toBe(1);
        c.send({ $case: "searchHiscore", value: { name: "P29" } });
        const bottom = (await c.expect("hiscoreBoard")).value.hiscores;
        expect(bottom.map((h) => h.rank)).toEqual([26, 27, 28, 29, 30]);

        c.send({ $case: "searchHiscore", value: { name: "nobody" } });
        expect((await c.expect("denyResponse")).value.reason).toBe("No player found with that name");

        c.send({ $case: "finishedBrowsingHiscores", value: {} });
        expect((await c.expect("id")).value.id).toBe(c.id);
      } finally {
        await own.stop();
      }
    }, 20_000);

    test("searches have their own budget per client: past a burst of 20, the client is told to try later; another client is served", async () => {
      const [greedy, other] = await Promise.all([TestClient.connect(srv.url), TestClient.connect(srv.url)]);
      expect(await register(greedy, freshName("Board"), "password")).toBe("ok");
      greedy.send({ $case: "hiscoreBoardRequest", value: {} });
      await greedy.expect("hiscoreBoard");
      for (let i = 0; i < 40; i++) greedy.send({ $case: "searchHiscore", value: { name: "nobody at all" } });
      const answers = [];
      for (let i = 0; i < 40; i++) answers.push((await greedy.expect("denyResponse")).value.reason);
      const searched = answers.filter((r) => r === Reason.noSuchPlayer).length;
      // The burst (20, one spent on entering) and what refilled at 10 a second while they arrived.
      expect(searched).toBeGreaterThanOrEqual(19);
      expect(searched).toBeLessThan(25);
      expect(answers.filter((r) => r === Reason.hiscoresFailed).length).toBe(40 - searched);
      other.send({ $case: "hiscoreBoardRequest", value: {} });
      expect((await other.expect("hiscoreBoard")).value.hiscores.length).toBeGreaterThan(0);
      // The budget refills.
      await Bun.sleep(300);
      greedy.send({ $case: "searchHiscore", value: { name: "nobody at all" } });
      expect((await greedy.expect("denyResponse")).value.reason).toBe(Reason.noSuchPlayer);
      await Promise.all([greedy.close(), other.close()]);
    });
  });
});

describe("the series' database", () => {
  test("a db.sqlite written by the series' Go server opens as it is, and its bcrypt users log in", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmo-series-db-"));
    copyFileSync(FIXTURE, join(dir, "db.sqlite"));
    const own = await startTestServer(radiusRumble, { dataDir: dir });
    try {
      const [alice, bob] = await Promise.all([TestClient.connect(own.url), TestClient.connect(own.url)]);
      expect(await login(alice, "Alice", "correct horse battery staple")).toBe("ok");
      expect(await login(bob, "bob", "wrong")).toBe(Reason.badLogin);
      expect(await login(bob, "bob", "hunter2")).toBe("ok");
      // The names and colours of the series' players are theirs.
      expect(await own.services.store.findAccount("alice")).toMatchObject({ name: "Alice", color: 3368703 });
      expect(await own.services.store.findAccount("BOB")).toMatchObject({ name: "Bob", color: -16711936 });
      const newcomer = await TestClient.connect(own.url);
      expect(await register(newcomer, "alice", "another password")).toBe("User already exists");
      expect(await register(newcomer, "Carol", "password")).toBe("ok");
    } finally {
      await own.stop();
    }
    const db = new Database(join(dir, "db.sqlite"), { readonly: true });
    expect((db.query("PRAGMA user_version").get() as { user_version: number }).user_version).toBe(SQLITE_SCHEMA_VERSION);
    expect((db.query("SELECT count(*) AS n FROM users").get() as { n: number }).n).toBe(3);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describeStores("durability", (kind) => {
  test("SIGKILL right after a registration's ok_response loses no account", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmo-kill-"));
    const { databaseUrl } = await storeOptions(kind);
    const store = databaseUrl ? ["--database-url", databaseUrl] : [];
    const start = () => startServerProcess([process.execPath, join(import.meta.dir, "..", "src", "main.ts")], ["--data-dir", dir, ...store]);
    try {
      const first = await start();
      const c = await TestClient.connect(first.url);
      expect(await register(c, "Survivor", "password")).toBe("ok");
      first.proc.kill("SIGKILL");
      await first.proc.exited;

      const second = await start();
      const again = await TestClient.connect(second.url);
      expect(await login(again, "survivor", "password")).toBe("ok");
      second.proc.kill("SIGTERM");
      expect(await second.proc.exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
