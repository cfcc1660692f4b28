// The storage engine games use, on both stores: versions and conditional writes under concurrency
// from two store instances on one database, atomic batches, listing by cursor while writes happen,
// quotas, sizes and values that are not JSON; and a game that keeps its data through a real server.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lobbyState } from "../src/accounts/lobby.ts";
import { defineState } from "../src/hub/states.ts";
import { newOkResponse } from "../src/packets/index.ts";
import { defineGame } from "../src/rooms/game.ts";
import { Room } from "../src/rooms/room.ts";
import { openStore } from "../src/store/open.ts";
import { Storage } from "../src/store/storage.ts";
import type { Store } from "../src/store/store.ts";
import { GAME_WIDE, MAX_DEPTH, type WriteResult } from "../src/store/objects.ts";
import type { Account } from "../src/store/store.ts";
import { describeStores, LogCapture, login, register, startTestServer, storeOptions, TestClient, waitFor } from "./helpers.ts";

interface Hero {
  gold: number;
  items: string[];
}

const LIMITS = { storageMaxValueBytes: 1024, storageMaxObjects: 5, storageMaxBytes: 2000 };

describeStores("storage", (kind) => {
  const stores: Store[] = [];
  const dirs: string[] = [];
  let databaseUrl = "";
  let dataDir = "";
  let owners = 1000;
  /** Another store on the same database: what a second node sees. */
  async function open(): Promise<{ storage: Storage }> {
    const store = await openStore({ dataDir, databaseUrl }, new LogCapture().logger, { exclusive: false });
    stores.push(store);
    return { storage: new Storage(store.objects, LIMITS) };
  }
  beforeAll(async () => {
    databaseUrl = (await storeOptions(kind)).databaseUrl ?? "";
    dataDir = mkdtempSync(join(tmpdir(), "mmo-storage-"));
    dirs.push(dataDir);
  });
  // Each store has a pool of connections: closed after each test, so that PostgreSQL's limit is never reached.
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test("update: 50 concurrent changes of one wallet on one node, then 2 × 25 on two nodes: none lost, none refused", async () => {
    const owner = ++owners;
    const a = await open();
    const wallets = a.storage.collection<{ gold: number }>("wallets");
    const addGold = (w: typeof wallets) => w.update("main", (wallet) => ({ gold: (wallet?.gold ?? 0) + 1 }), { owner });
    const first = await Promise.all(Array.from({ length: 50 }, () => addGold(wallets)));
    expect(first.filter((r) => r.ok)).toHaveLength(50);
    expect((await wallets.get("main", owner))!.value.gold).toBe(50);
    // A second node on the same database: its writes conflict with this one's, and are retried.
    const other = (await open()).storage.collection<{ gold: number }>("wallets");
    const both = await Promise.all(Array.from({ length: 50 }, (_, i) => addGold(i % 2 ? wallets : other)));
    expect(both.map((r) => (r.ok ? "ok" : r.reason)).filter((r) => r !== "ok")).toEqual([]);
    expect((await wallets.get("main", owner))!.value.gold).toBe(100);
    // What a write refuses is returned, not retried: past the owner's quota of objects.
    for (let i = 0; i < LIMITS.storageMaxObjects - 1; i++) expect((await wallets.put(`w${i}`, { gold: 0 }, { owner })).ok).toBe(true);
    const over = await wallets.update("one-too-many", () => ({ gold: 1 }), { owner });
    expect(over.ok ? "ok" : over.reason).toBe("quota");
  });

  test("a typed collection: put, get, a new version on every write, absent and version conditions", async () => {
    const heroes = (await open()).storage.collection<Hero>("heroes");
    const owner = ++owners;
    const first = await heroes.put("main", { gold: 10, items: ["sword"] }, { owner, ifAbsent: true });
    expect(first.ok).toBe(true);
    const got = (await heroes.get("main", owner))!;
    expect(got.value.gold + 0).toBe(10);
    expect(got.value.items).toEqual(["sword"]);
    expect(got).toMatchObject({ collection: "heroes", key: "main", owner, version: (first as { versions: string[] }).versions[0] });
    const again = await heroes.put("main", { gold: 0, items: [] }, { owner, ifAbsent: true });
    expect(again).toEqual({ ok: false, reason: "conflict", index: 0, object: { collection: "heroes", key: "main", owner }, version: got.version });
    const second = await heroes.put("main", { gold: 20, items: [] }, { owner, ifVersion: got.version });
    expect(second.ok).toBe(true);
    const v2 = (second as { versions: string[] }).versions[0]!;
    expect(v2).not.toBe(got.version);
    const stale = await heroes.put("main", { gold: 99, items: [] }, { owner, ifVersion: got.version });
    expect(stale).toMatchObject({ ok: false, reason: "conflict", version: v2 });
    expect((await heroes.get("main", owner))!.value.gold).toBe(20);
    expect(await heroes.get("main", owner + 1)).toBeUndefined();
    expect(await heroes.get("main", GAME_WIDE)).toBeUndefined();
  });

  test("of 20 racing writes 'only if version V' from two stores, exactly one wins; the loser learns the version now", async () => {
    const [a, b] = [await open(), await open()];
    const owner = ++owners;
    const counter = a.storage.collection<{ n: number }>("counters");
    const start = await counter.put("c", { n: 0 }, { owner });
    const version = (start as { versions: string[] }).versions[0]!;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).storage.collection<{ n: number }>("counters").put("c", { n: i + 1 }, { owner, ifVersion: version })),
    );
    const winners = results.filter((r) => r.ok);
    expect(winners.length).toBe(1);
    const now = (await counter.get("c", owner))!;
    for (const r of results) if (!r.ok) expect(r).toMatchObject({ reason: "conflict", version: now.version });
    expect(now.value.n).toBe(results.indexOf(winners[0]!) + 1);
  });

  test("of 10 racing 'only if absent' writes from two stores, exactly one creates the object", async () => {
    const [a, b] = [await open(), await open()];
    const owner = ++owners;
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).storage.write([{ collection: "names", key: "n", owner, value: { by: i }, ifAbsent: true }])));
    expect(results.filter((r) => r.ok).length).toBe(1);
  });

  test("a batch is all or none: a failing condition anywhere writes nothing; deletes in a batch", async () => {
    const { storage } = await open();
    const owner = ++owners;
    await storage.write([{ collection: "bag", key: "a", owner, value: { n: 1 } }]);
    const failed = await storage.write([
      { collection: "bag", key: "b", owner, value: { n: 2 } },
      { collection: "bag", key: "a", owner, delete: true },
      { collection: "bag", key: "c", owner, value: { n: 3 }, ifVersion: "12345678" },
    ]);
    expect(failed).toMatchObject({ ok: false, reason: "conflict", index: 2, version: undefined });
    const [a, b, c] = await storage.read([
      { collection: "bag", key: "a", owner },
      { collection: "bag", key: "b", owner },
      { collection: "bag", key: "c", owner },
    ]);
    expect(a?.value).toEqual({ n: 1 });
    expect(b).toBeUndefined();
    expect(c).toBeUndefined();
    const moved = await storage.write([
      { collection: "bag", key: "b", owner, value: { n: 2 } },
      { collection: "bag", key: "a", owner, delete: true, ifVersion: a!.version },
    ]);
    expect(moved.ok).toBe(true);
    const after = await storage.read([
      { collection: "bag", key: "a", owner },
      { collection: "bag", key: "b", owner },
    ]);
    expect(after[0]).toBeUndefined();
    expect(after[1]?.value).toEqual({ n: 2 });
  });

  test("listing in key order with a cursor, page by page, while other keys are written: each key once, in order", async () => {
    const store = await open();
    const writer = await open();
    const items = store.storage.collection<{ i: number }>("list");
    const keys = Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(3, "0")}`);
    expect((await store.storage.write(keys.map((key, i) => items.op(key, { i })))).ok).toBe(true);
    const seen: string[] = [];
    let cursor: string | undefined;
    let page = 0;
    do {
      const result = await items.list({ cursor, limit: 7 });
      seen.push(...result.objects.map((o) => o.key));
      cursor = result.cursor;
      // Between pages another node rewrites seen keys, adds keys before the cursor and deletes none.
      await writer.storage.write([
        { collection: "list", key: seen[0]!, value: { i: -page } },
        { collection: "list", key: `a${page}`, value: { i: 0 } },
      ]);
      page++;
    } while (cursor);
    expect(seen).toEqual(keys);
    expect(page).toBe(4);
    const game = await items.list({ owner: 424242 });
    expect(game).toEqual({ objects: [], cursor: undefined });
  });

  test("quotas per owner: objects and bytes; over them a typed refusal and nothing stored; game-wide objects are not counted", async () => {
    const { storage } = await open();
    const owner = ++owners;
    const five = Array.from({ length: 5 }, (_, i) => ({ collection: "q", key: `k${i}`, owner, value: { i } }));
    expect((await storage.write(five)).ok).toBe(true);
    const sixth = await storage.write([{ collection: "q", key: "k5", owner, value: { i: 5 } }]);
    expect(sixth).toMatchObject({ ok: false, reason: "quota", owner, objects: 6, maxObjects: 5 });
    expect((await storage.read([{ collection: "q", key: "k5", owner }]))[0]).toBeUndefined();
    // Rewriting what exists, or deleting, is always allowed.
    expect((await storage.write([{ collection: "q", key: "k0", owner, value: { i: 10 } }])).ok).toBe(true);
    expect((await storage.delete([{ collection: "q", key: "k1", owner }])).ok).toBe(true);
    expect((await storage.write([{ collection: "q", key: "k5", owner, value: { i: 5 } }])).ok).toBe(true);
    const big = "x".repeat(900);
    const other = ++owners;
    expect((await storage.write([{ collection: "q", key: "a", owner: other, value: { big } }, { collection: "q", key: "b", owner: other, value: { big } }])).ok).toBe(true);
    expect(await storage.write([{ collection: "q", key: "c", owner: other, value: { big } }])).toMatchObject({ ok: false, reason: "quota", maxBytes: 2000 });
    const wide = Array.from({ length: 8 }, (_, i) => ({ collection: "q", key: `w${i}`, value: { big } }));
    expect((await storage.write(wide)).ok).toBe(true);
  });

  test("invalid values and names: a typed refusal naming the operation, nothing stored", async () => {
    const { storage } = await open();
    const owner = ++owners;
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < MAX_DEPTH + 1; i++) deep = (deep.next = {}) as Record<string, unknown>;
    const cases: [unknown, RegExp][] = [
      [[1, 2], /plain object/],
      ["text", /plain object/],
      [{ f: () => 1 }, /function is not JSON/],
      [{ n: NaN }, /NaN is not a JSON number/],
      [{ big: 10n }, /bigint is not JSON/],
      [{ when: new Date() }, /Date is not JSON/],
      [{ u: undefined }, /undefined is not JSON/],
      [cyclic, /deeper than/],
      [root, /deeper than/],
      [{ s: "x".repeat(1100) }, /over the limit of 1024/],
    ];
    for (const [value, message] of cases) {
      const result = (await storage.write([
        { collection: "ok", key: "fine", owner, value: { fine: true } },
        { collection: "bad", key: "v", owner, value: value as object },
      ])) as Extract<WriteResult, { reason: "invalid" }>;
      expect(result).toMatchObject({ ok: false, reason: "invalid", index: 1 });
      expect(result.message).toMatch(message);
    }
    expect(await storage.write([{ collection: "no spaces", key: "k", value: {} }])).toMatchObject({ reason: "invalid", index: 0 });
    expect(await storage.write([{ collection: "c", key: "", value: {} }])).toMatchObject({ reason: "invalid" });
    expect(await storage.write([{ collection: "c", key: "k", owner: -1, value: {} }])).toMatchObject({ reason: "invalid" });
    expect((await storage.read([{ collection: "ok", key: "fine", owner }]))[0]).toBeUndefined();
    expect((await storage.read([{ collection: "bad", key: "v", owner }]))[0]).toBeUndefined();
    expect(storage.read([{ collection: "bad name", key: "v" }])).rejects.toThrow(/collection/);
  });

  test("a game keeps a player's data through a real server: written from an async room handler, read after a restart", async () => {
    const log: string[] = [];
    const vault = defineGame({
      name: "vault",
      description: "a coin counter per account",
      create({ rooms, accounts, storage }) {
        const coins = storage.collection<{ coins: number }>("coins");
        class VaultRoom extends Room<number> {
          override readonly messages = {
            chat: async (clientId: number, { msg }: { msg: string }) => {
              const owner = this.owners.get(clientId)!;
              if (msg === "throw") throw new Error("thrown on purpose");
              if (msg === "reject") return Promise.reject(new Error("rejected on purpose"));
              for (;;) {
                const now = await coins.get("purse", owner);
                const result = await coins.put("purse", { coins: (now?.value.coins ?? 0) + Number(msg) }, now ? { owner, ifVersion: now.version } : { owner, ifAbsent: true });
                if (result.ok) break;
              }
              this.ctx.send(clientId, newOkResponse());
            },
          };
          private readonly owners = new Map<number, number>();
          onJoin(clientId: number, owner: number) {
            this.owners.set(clientId, owner);
          }
          onLeave(clientId: number) {
            this.owners.delete(clientId);
          }
          snapshot() {
            return {};
          }
          restore() {}
        }
        const inVault = defineState<undefined, Account>({
          onEnter: (client, account) => void rooms.joinOrCreate<VaultRoom>(client, "vault", account.userId),
          handleMessage: {},
          onExit: (client) => rooms.leave(client),
        });
        return {
          states: {
            initial: "Connected",
            states: { Connected: lobbyState(accounts, { afterLogin: (c, a) => c.setState("InVault", a) }), InVault: inVault },
            transitions: { Connected: ["InVault"], InVault: ["Connected"] },
          },
          rooms: { vault: { create: (ctx) => new VaultRoom(ctx), capacity: 2 } },
          async stop() {
            log.push(`rooms left: ${rooms.size}`);
            log.push(`write: ${(await storage.write([{ collection: "shutdown", key: "last", value: { at: 1 } }])).ok}`);
          },
        };
      },
    });
    const options = { ...(await storeOptions(kind)), dataDir: mkdtempSync(join(tmpdir(), "mmo-vault-")) };
    dirs.push(options.dataDir);
    let srv = await startTestServer(vault, options);
    const clients = await Promise.all([1, 2, 3].map(() => TestClient.connect(srv.url)));
    for (const [i, c] of clients.entries()) {
      expect(await register(c, `Saver${kind}${i}`, "password")).toBe("ok");
      expect(await login(c, `Saver${kind}${i}`, "password")).toBe("ok");
    }
    // Capacity 2: the first two share a room, the third gets a new one.
    expect([...srv.rooms.ofType("vault")].length).toBe(2);
    expect(srv.rooms.memberCount("vault-1")).toBe(2);
    expect(srv.rooms.memberCount("vault-2")).toBe(1);
    const [a, b] = clients as [TestClient, TestClient, TestClient];
    a.send({ $case: "chat", value: { msg: "throw" } });
    a.send({ $case: "chat", value: { msg: "reject" } });
    await Promise.all(Array.from({ length: 10 }, () => a.send({ $case: "chat", value: { msg: "5" } })));
    for (let i = 0; i < 10; i++) await a.expect("okResponse");
    b.send({ $case: "chat", value: { msg: "7" } });
    await b.expect("okResponse");
    expect(srv.logs.has(/A chat packet of client \d+ failed: thrown on purpose/)).toBe(true);
    await waitFor(() => srv.logs.has(/A chat packet of client \d+ failed: rejected on purpose/));
    await srv.stop();
    expect(log).toEqual(["rooms left: 0", "write: true"]);

    srv = await startTestServer(vault, options);
    const again = await TestClient.connect(srv.url);
    expect(await login(again, `Saver${kind}0`, "password")).toBe("ok");
    again.send({ $case: "chat", value: { msg: "1" } });
    await again.expect("okResponse");
    const account = (await srv.services.store.findAccount(`Saver${kind}0`))!;
    expect((await srv.services.storage.collection<{ coins: number }>("coins").get("purse", account.userId))!.value.coins).toBe(51);
    expect((await srv.services.storage.read([{ collection: "shutdown", key: "last" }]))[0]?.value).toEqual({ at: 1 });
    await srv.stop();
  });

  test("writes still in flight at shutdown (a leaver's storage write and board score, a room's last write, none awaited) complete before the store closes", async () => {
    const leftWith = 40;
    const vault = defineGame({
      name: "vault",
      description: "writes a leaver's coins and score without waiting for them",
      create({ rooms, accounts, storage, leaderboards }) {
        const coins = storage.collection<{ coins: number }>("coins");
        const board = leaderboards.define({ id: "coins", order: "desc", operator: "best" });
        class VaultRoom extends Room<Account> {
          private readonly accounts = new Map<number, Account>();
          onJoin(clientId: number, account: Account) {
            this.accounts.set(clientId, account);
          }
          // What a game does on a leave and at its room's end: start the writes, wait for none.
          onLeave(clientId: number) {
            const account = this.accounts.get(clientId)!;
            void coins.put("purse", { coins: leftWith }, { owner: account.userId });
            void board.submit(account.userId, leftWith, { name: account.name });
          }
          override onDispose() {
            void storage.write([{ collection: "rooms", key: "vault", value: { closed: true } }]);
          }
          snapshot() {
            return {};
          }
          restore() {}
        }
        return {
          states: {
            initial: "Connected",
            states: {
              Connected: lobbyState(accounts, { afterLogin: (c, a) => c.setState("InVault", a) }),
              InVault: defineState<undefined, Account>({ onEnter: (client, account) => void rooms.joinOrCreate<VaultRoom>(client, "vault", account), handleMessage: {} }),
            },
            transitions: { Connected: ["InVault"], InVault: ["Connected"] },
          },
          rooms: { vault: { create: (ctx) => new VaultRoom(ctx), capacity: 4 } },
        };
      },
    });
    const options = { ...(await storeOptions(kind)), dataDir: mkdtempSync(join(tmpdir(), "mmo-inflight-")) };
    dirs.push(options.dataDir);
    let srv = await startTestServer(vault, options);
    const clients = await Promise.all([0, 1, 2].map(() => TestClient.connect(srv.url)));
    for (const [i, c] of clients.entries()) {
      expect(await register(c, `Leaver${kind}${i}`, "password")).toBe("ok");
      expect(await login(c, `Leaver${kind}${i}`, "password")).toBe("ok");
    }
    await waitFor(() => srv.rooms.memberCount("vault-1") === 3, 3000, "the three in the vault");
    // Shut down with them in the room: they leave, the room closes, each starting writes nobody awaits.
    await srv.stop();

    srv = await startTestServer(vault, options);
    for (let i = 0; i < 3; i++) {
      const account = (await srv.services.store.findAccount(`Leaver${kind}${i}`))!;
      expect((await srv.services.storage.collection<{ coins: number }>("coins").get("purse", account.userId))?.value.coins).toBe(leftWith);
      expect(srv.services.leaderboards.get("coins")!.recordOf(account.userId)?.score).toBe(leftWith);
    }
    expect((await srv.services.storage.read([{ collection: "rooms", key: "vault" }]))[0]?.value).toEqual({ closed: true });
    await srv.stop();
  });
});
