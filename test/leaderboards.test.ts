// Leaderboards on both stores: the operators from two nodes' boards on one database (best never goes
// down, increments lose nothing), both orders, ties to the older account, records around a player,
// metadata, resets at UTC boundaries with a clock the test sets, catching up from the store; and the
// boards of three cluster nodes agreeing after Redis was killed and started again.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Packet } from "../src/packets/index.ts";
import { Leaderboards, periodOf, type BoardSpec } from "../src/store/leaderboards.ts";
import { openStore } from "../src/store/open.ts";
import type { Store } from "../src/store/store.ts";
import type { ServerProcess } from "../src/testing/server-process.ts";
import { clusterOf, clusterOnRedis, describeRedis, describeStores, LogCapture, login, lookUpHiscore, register, storeOptions, TestClient, waitFor } from "./helpers.ts";

const at = (iso: string) => Date.parse(iso);

test("periods start at UTC midnight, on Mondays, on the first of the month", () => {
  const t = at("2026-12-02T15:30:00Z"); // a Wednesday
  expect(periodOf(undefined, t)).toBe(0);
  expect(periodOf("daily", t)).toBe(at("2026-12-02T00:00:00Z"));
  expect(periodOf("weekly", t)).toBe(at("2026-11-30T00:00:00Z"));
  expect(periodOf("weekly", at("2026-11-30T00:00:00Z"))).toBe(at("2026-11-30T00:00:00Z"));
  expect(periodOf("weekly", at("2026-11-29T23:59:59.999Z"))).toBe(at("2026-11-23T00:00:00Z"));
  expect(periodOf("monthly", t)).toBe(at("2026-12-01T00:00:00Z"));
  expect(periodOf("monthly", at("2024-02-29T23:59:59Z"))).toBe(at("2024-02-01T00:00:00Z"));
});

describeStores("leaderboards", (kind) => {
  const stores: Store[] = [];
  const boards: Leaderboards[] = [];
  const dirs: string[] = [];
  let databaseUrl = "";
  let dataDir = "";
  let clock = at("2026-12-02T12:00:00Z");
  /** A node's boards on the shared database: its own memory, the same store. */
  async function node(...specs: BoardSpec[]): Promise<Leaderboards> {
    const store = await openStore({ dataDir, databaseUrl }, new LogCapture().logger, { exclusive: false });
    stores.push(store);
    const node = new Leaderboards(store.boards, new LogCapture().logger, () => clock);
    for (const spec of specs) node.define(spec);
    await node.load();
    boards.push(node);
    return node;
  }
  beforeAll(async () => {
    databaseUrl = (await storeOptions(kind)).databaseUrl ?? "";
    dataDir = mkdtempSync(join(tmpdir(), "mmo-boards-"));
    dirs.push(dataDir);
  });
  afterEach(async () => {
    for (const b of boards.splice(0)) await b.close();
    for (const store of stores.splice(0)) await store.close();
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test("best never goes down, whatever order two nodes' submissions reach the store in; a later load agrees", async () => {
    const spec = { id: "best" };
    const [a, b] = [await node(spec), await node(spec)];
    const scores = [30, 10, 70, 50, 20, 60, 40];
    await Promise.all(scores.map((score, i) => (i % 2 ? a : b).get("best")!.submit(7, score, { name: "Climber" })));
    await b.get("best")!.submit(7, 5, { name: "Climber" });
    const fresh = await node(spec);
    expect(fresh.get("best")!.recordOf(7)).toMatchObject({ rank: 1, id: 7, name: "Climber", score: 70 });
    // Each node saw the store's answer to its own writes, the higher ones included.
    expect(b.get("best")!.recordOf(7)!.score).toBeGreaterThanOrEqual(60);
  });

  test("increments from two nodes at once lose nothing; set goes down as well as up", async () => {
    const [a, b] = [await node({ id: "wins", operator: "increment" }, { id: "gold", operator: "set" }), await node({ id: "wins", operator: "increment" }, { id: "gold", operator: "set" })];
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).get("wins")!.submit(3, 1, { name: "Winner" })));
    await Promise.all([a.get("wins")!.flush(), b.get("wins")!.flush()]);
    expect((await node({ id: "wins", operator: "increment" })).get("wins")!.recordOf(3)!.score).toBe(40);
    const gold = a.get("gold")!;
    await gold.submit(3, 500, { name: "Spender" });
    await gold.submit(4, 300, { name: "Saver" });
    expect(gold.rankOf(3)).toBe(1);
    await gold.submit(3, 120, { name: "Spender" });
    expect(gold.top().map((r) => [r.id, r.score])).toEqual([
      [4, 300],
      [3, 120],
    ]);
    expect((await node({ id: "gold", operator: "set" })).get("gold")!.top().map((r) => r.score)).toEqual([300, 120]);
  });

  test("order, ties to the older account, search (ASCII case-insensitive, % and _ literal), around a player, metadata", async () => {
    const n = await node({ id: "race", order: "asc" }, { id: "names" });
    const race = n.get("race")!;
    // Lap times: lower is better; owners 10..29, ties every two.
    for (let owner = 29; owner >= 10; owner--) await race.submit(owner, 60_000 + Math.floor(owner / 2) * 100, { name: `R${owner}`, metadata: { car: owner % 3 } });
    expect(race.top(3).map((r) => r.id)).toEqual([10, 11, 12]);
    expect(race.rankOf(21)).toBe(12);
    expect(race.around(21, 5).map((r) => r.rank)).toEqual([10, 11, 12, 13, 14]);
    expect(race.around(10, 5).map((r) => r.rank)).toEqual([1, 2, 3, 4, 5]);
    expect(race.around(29, 5).map((r) => r.rank)).toEqual([16, 17, 18, 19, 20]);
    expect(race.around(99)).toEqual([]);
    expect(race.recordOf(11)).toEqual({ rank: 2, id: 11, name: "R11", score: 60_500, metadata: { car: 2 } });
    // Best on an ascending board keeps the lower time.
    await race.submit(11, 70_000, { name: "R11" });
    expect(race.recordOf(11)!.score).toBe(60_500);
    await race.submit(11, 1, { name: "R11" });
    expect(race.rankOf(11)).toBe(1);

    const names = n.get("names")!;
    for (const [owner, name] of ["b_1", "b%2", "Émile", "bAB", "b13"].entries()) await names.submit(100 + owner, owner < 3 ? 5 : 9, { name });
    expect(names.top(5).map((r) => r.name)).toEqual(["bAB", "b13", "b_1", "b%2", "Émile"]);
    expect(names.search("BAB")).toBe(1);
    expect(names.search("b%2")).toBe(4);
    expect(names.search("b_2")).toBeUndefined();
    expect(names.search("b%")).toBeUndefined();
    expect(names.search("ÉMILE")).toBe(5);
    expect(names.search("émile")).toBeUndefined();
    expect(() => names.submit(1, 1.5, { name: "x" })).toThrow(/safe integer/);
    expect(() => names.submit(1, 1, { name: "x", metadata: { f: () => 1 } })).toThrow(/not JSON/);
  });

  test("a daily board starts empty at UTC midnight; a restart loads only the current day; the last day's records are removed", async () => {
    clock = at("2026-12-02T23:59:59Z");
    const spec: BoardSpec = { id: "daily", operator: "increment", reset: "daily" };
    const n = await node(spec);
    const daily = n.get("daily")!;
    await daily.submit(1, 10, { name: "Early" });
    await daily.submit(2, 5, { name: "Late" });
    expect(daily.size).toBe(2);
    clock = at("2026-12-03T00:00:00Z");
    expect(daily.size).toBe(0);
    expect(daily.top()).toEqual([]);
    await daily.submit(2, 3, { name: "Late" });
    expect(daily.recordOf(2)).toMatchObject({ rank: 1, score: 3 });
    const restarted = (await node(spec)).get("daily")!;
    expect(restarted.top().map((r) => [r.id, r.score])).toEqual([[2, 3]]);
    const store = stores[0]!;
    await waitFor(async () => (await store.boards.loadRecords("daily", at("2026-12-02T00:00:00Z"))).length === 0, 3000, "yesterday's records to be removed");
    clock = at("2026-12-02T12:00:00Z");
  });

  test("a node that missed another's writes catches up from the store", async () => {
    const [a, b] = [await node({ id: "catch" }), await node({ id: "catch" })];
    await a.get("catch")!.submit(5, 42, { name: "Quiet" });
    expect(b.get("catch")!.rankOf(5)).toBeUndefined();
    expect(await b.catchUp()).toBeGreaterThan(0);
    expect(b.get("catch")!.recordOf(5)).toMatchObject({ name: "Quiet", score: 42 });
    // A stale copy of the record (an event that arrives late) cannot move it back.
    await a.get("catch")!.submit(5, 50, { name: "Quiet" });
    await b.catchUp();
    b.applyRemote([{ board: "catch", owner: 5, name: "Quiet", score: 42, metadata: null, period: 0, seq: 1, updatedAt: 0 }]);
    expect(b.get("catch")!.recordOf(5)!.score).toBe(50);
  });
});

describeRedis("leaderboards across a cluster", () => {
  const cluster = clusterOnRedis("mmo-cluster-boards-");
  const nodes = cluster.nodes;
  const clients: TestClient[] = [];
  afterAll(() => Promise.all(clients.splice(0).map((c) => c.close())));
  async function connect(node: ServerProcess): Promise<TestClient> {
    const client = await TestClient.connect(node.url);
    clients.push(client);
    return client;
  }
  /** What the node's hiscores say of `name`: its entry, or the deny reason. */
  const lookUp = (node: ServerProcess, name: string) => lookUpHiscore(node.url, name);

  test("a registration and a best score made while Redis is down reach every node's board within seconds of its return", async () => {
    for (const name of ["b1", "b2", "b3"]) {
      await cluster.node(name);
    }
    const [a, b, c] = nodes as [ServerProcess, ServerProcess, ServerProcess];
    await waitFor(async () => (await Promise.all(nodes.map(clusterOf))).every((h) => h.nodes.length === 3 && h.rooms.world === "b1"), 8000, "every node to know the world's owner");
    // Before the outage, through the bus.
    const before = await connect(b);
    expect(await register(before, "Before", "password")).toBe("ok");
    await waitFor(async () => typeof (await lookUp(c, "Before")) === "object", 3000, "a registration to reach another node");

    // A best score made during the outage. The world's owner stands still once it cannot confirm its
    // lease (2 s after Redis goes), so the player is steered to a spore first and Redis is killed
    // just before it eats; its score reaches the store when it leaves, with the bus down everywhere.
    const eater = await connect(a);
    expect(await register(eater, "Eater", "password")).toBe("ok");
    await waitFor(async () => JSON.stringify(await lookUp(c, "Eater")) === JSON.stringify({ name: "Eater", score: 0 }), 3000, "a registration to reach another node");
    expect(await login(eater, "Eater", "password")).toBe("ok");
    const score = await eatASpore(eater, () => cluster.redis.kill());
    await waitFor(async () => (await Promise.all(nodes.map(clusterOf))).every((h) => h.bus === "down"), 8000, "the bus to be down everywhere");
    await eater.close();
    // A registration made during the outage.
    const player = await connect(a);
    expect(await register(player, "Outage", "password")).toBe("ok");
    await player.close();
    expect(await lookUp(b, "Outage")).toBe("No player found with that name");
    expect(await lookUp(b, "Eater")).toEqual({ name: "Eater", score: 0 });

    await cluster.redis.startServer();
    const returned = performance.now();
    const expected = [
      { name: "Outage", score: 0 },
      { name: "Eater", score },
    ];
    for (const node of [b, c]) {
      for (const entry of expected) {
        let seen: unknown;
        await waitFor(async () => JSON.stringify((seen = await lookUp(node, entry.name))) === JSON.stringify(entry), 15_000, () => `the node's board to have ${JSON.stringify(entry)}: ${JSON.stringify(seen)}`);
      }
    }
    console.log(`boards after an outage: a registration and a best score made while Redis was down reached both other nodes ${Math.round(performance.now() - returned)} ms after Redis was started again`);
    for (const entry of expected) expect(await lookUp(a, entry.name)).toEqual(entry);
  }, 60_000);
});

/**
 * Steers the client's player to the nearest spore and eats it; resolves to its best score then. With
 * `beforeEating`, that runs (once) when a spore is first within reach, and the player eats after it.
 */
async function eatASpore(client: TestClient, beforeEating?: () => Promise<void>): Promise<number> {
  const me = (await client.expect("player", 5000)).value;
  const spores: { id: number; x: number; y: number; radius: number }[] = [];
  const deadline = performance.now() + 20_000;
  let position = { x: me.x, y: me.y, radius: me.radius };
  for (;;) {
    if (performance.now() > deadline) throw new Error("could not reach a spore within 20 s");
    for (const p of client.packets.splice(0) as Packet[]) {
      if (p.msg?.$case === "sporesBatch") spores.push(...p.msg.value.spores);
      if (p.msg?.$case === "player" && p.msg.value.id === client.id) position = p.msg.value;
      if (p.msg?.$case === "sporeConsumed") {
        const eaten = p.msg.value.sporeId;
        spores.splice(0, spores.length, ...spores.filter((s) => s.id !== eaten));
      }
    }
    const target = spores.toSorted((s, t) => Math.hypot(s.x - position.x, s.y - position.y) - Math.hypot(t.x - position.x, t.y - position.y))[0];
    if (target) {
      const distance = Math.hypot(target.x - position.x, target.y - position.y);
      if (distance < position.radius + target.radius && beforeEating) {
        await beforeEating();
        beforeEating = undefined;
        continue;
      }
      if (distance < position.radius + target.radius) {
        client.send({ $case: "sporeConsumed", value: { sporeId: target.id } });
        const grown = await waitForOwn(client, (p) => p.radius > me.radius);
        return Math.round(Math.PI * grown.radius ** 2);
      }
      client.send({ $case: "playerDirection", value: { direction: Math.atan2(target.y - position.y, target.x - position.x) } });
    }
    await Bun.sleep(50);
  }
}

async function waitForOwn(client: TestClient, check: (p: { radius: number }) => boolean): Promise<{ radius: number }> {
  for (;;) {
    const update = (await client.expect("player", 3000)).value;
    if (update.id === client.id && check(update)) return update;
  }
}
