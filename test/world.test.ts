// The world: rules as pure functions, the world stepped by hand with a seeded random source and a
// fake clock, and the whole game over real sockets.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { seededRandom } from "../src/rooms/random.ts";
import * as rules from "../src/games/radius-rumble/rules.ts";
import { World, type WorldOutput } from "../src/games/radius-rumble/world.ts";
import type { Msg } from "../src/packets/index.ts";
import { WORLD_ROOM, type WorldRoom } from "../src/games/radius-rumble/world-room.ts";
import { login, register, radiusRumble, startTestServer, TestClient, waitFor, type TestServer } from "./helpers.ts";

describe("rules", () => {
  test("mass and radius", () => {
    expect(rules.massOf(10)).toBeCloseTo(Math.PI * 100);
    expect(rules.radiusOf(rules.massOf(7))).toBeCloseTo(7);
    expect(rules.grownRadius(20, 10)).toBeCloseTo(Math.sqrt(500));
    expect(rules.bestScoreOf(20)).toBe(Math.round(Math.PI * 400));
  });

  test("movement at speed · (cos, sin)(direction) · dt", () => {
    const to = rules.moved(0, 0, Math.PI / 2, 150, 0.05);
    expect(to.x).toBeCloseTo(0);
    expect(to.y).toBeCloseTo(7.5);
  });

  test("reach: distance² <= (R + 10 + r)²", () => {
    const p = { x: 0, y: 0, radius: 20 };
    expect(rules.withinReach(p, { x: 40, y: 0, radius: 10 })).toBe(true);
    expect(rules.withinReach(p, { x: 40.01, y: 0, radius: 10 })).toBe(false);
  });

  test("a player eats another only with more than 1.5 × its mass", () => {
    expect(rules.canEatPlayer(Math.sqrt(1.5) * 20 + 0.01, 20)).toBe(true);
    expect(rules.canEatPlayer(Math.sqrt(1.5) * 20 - 0.01, 20)).toBe(false);
    expect(rules.canEatPlayer(20, 20)).toBe(false);
  });

  test("spore drops and their cooldown", () => {
    expect(rules.dropChance(10)).toBe(0);
    expect(rules.dropChance(50)).toBeCloseTo(0.01);
    expect(rules.droppedSporeRadius(100)).toBe(7);
    expect(rules.droppedSporeRadius(10_000)).toBe(15);
    expect(rules.dropCooldownSeconds(10, 20, 150)).toBeCloseTo(40 / 150);
    expect(rules.sporeRadiusFrom(-5)).toBe(5);
    expect(rules.sporeRadiusFrom(1)).toBe(13);
  });

  test("spawning avoids what is taken and widens the bound after 25 failures", () => {
    const random = seededRandom(1);
    let calls = 0;
    const point = rules.spawnPoint(20, random, () => ++calls > 30);
    expect(calls).toBe(31);
    // After the 25th failure the bound is 6000, so the point may lie outside [-3000, 3000].
    expect(Math.abs(point.x) <= 6000 && Math.abs(point.y) <= 6000).toBe(true);
    const inside = rules.spawnPoint(20, seededRandom(2), () => true);
    expect(Math.abs(inside.x) <= 3000 && Math.abs(inside.y) <= 3000).toBe(true);
  });
});

/** Records what a world says, by recipient. */
class Recorder implements WorldOutput {
  readonly all: [number, Msg][] = [];
  readonly others: [number, Msg][] = [];
  readonly direct: [number, number, Msg][] = [];
  readonly refusals: string[] = [];
  toAll(senderId: number, msg: Msg) {
    this.all.push([senderId, msg]);
  }
  /** A tick's state goes to everyone too: recorded with the rest. */
  stateToAll(senderId: number, msg: Msg) {
    this.all.push([senderId, msg]);
  }
  toOthers(senderId: number, msg: Msg) {
    this.others.push([senderId, msg]);
  }
  toPlayer(playerId: number, senderId: number, msg: Msg) {
    this.direct.push([playerId, senderId, msg]);
  }
  refused(_playerId: number, why: string) {
    this.refusals.push(why);
  }
}

function newWorld(seed = 42) {
  let now = 0;
  const out = new Recorder();
  const world = new World({ random: seededRandom(seed), now: () => now, output: out });
  return { world, out, advance: (ms: number) => (now += ms) };
}

const profile = (name: string) => ({ name, color: 0x123456, bestScore: 0, scoreKey: name.length });

describe("world", () => {
  test("starts with 1000 spores of radius >= 5, none overlapping", () => {
    const { world } = newWorld();
    const spores = [...world.spores.values()];
    expect(spores).toHaveLength(1000);
    expect(spores.every((s) => s.radius >= 5)).toBe(true);
    for (let i = 0; i < spores.length; i++) {
      for (let j = i + 1; j < spores.length; j++) expect(rules.overlaps(spores[i]!, spores[j]!)).toBe(false);
    }
  });

  test("the same seed makes the same world", () => {
    const a = [...newWorld(7).world.spores.values()].slice(0, 20);
    const b = [...newWorld(7).world.spores.values()].slice(0, 20);
    expect(a).toEqual(b);
  });

  test("a joining player spawns with radius 20 and speed 150 away from others, and gets its own player packet first", () => {
    const { world, out } = newWorld();
    const a = world.join(1, profile("a"));
    const b = world.join(2, profile("b"));
    expect(a.radius).toBe(20);
    expect(a.speed).toBe(150);
    expect(rules.overlaps(a, b)).toBe(false);
    expect(out.direct[0]).toEqual([1, 1, expect.objectContaining({ $case: "player" })]);
  });

  test("spores reach a new player in batches of at most 20 real spores, a few batches a tick", () => {
    const { world, out } = newWorld();
    world.join(1, profile("a"));
    for (let i = 0; i < 10; i++) world.tick();
    const batches = out.direct.filter(([, , m]) => m.$case === "sporesBatch").map(([, , m]) => (m as Extract<Msg, { $case: "sporesBatch" }>).value.spores);
    expect(batches.length).toBe(50);
    expect(batches.every((b) => b.length === 20 && b.every((s) => s.radius > 0))).toBe(true);
    expect(new Set(batches.flat().map((s) => s.id)).size).toBe(1000);
  });

  test("a player moves only after its first heading, 7.5 units a tick, and every tick is published to all", () => {
    const { world, out } = newWorld();
    const p = world.join(1, profile("a"));
    const start = { x: p.x, y: p.y };
    world.tick();
    expect({ x: p.x, y: p.y }).toEqual(start);
    world.setDirection(1, 0);
    world.tick();
    world.tick();
    expect(p.x - start.x).toBeCloseTo(15);
    expect(out.all.filter(([sender, m]) => sender === 1 && m.$case === "player")).toHaveLength(3);
  });

  test("a large world's fan-out is published in chunks on later turns of the event loop, never from the grave; the tick is timed in wall time", async () => {
    // The tick's clock is the test's: it stands still while the world works and moves 10 ms between
    // turns of the event loop, as if other work ran there.
    let clock = 0;
    const out = new Recorder();
    const world = new World({ random: seededRandom(42), now: () => 0, output: out, clock: () => clock });
    for (let id = 1; id <= 120; id++) world.join(id, profile(`p${id}`));
    const published = () => out.all.filter(([, m]) => m.$case === "player").map(([sender]) => sender);
    world.tick();
    const first = published().length;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(120);
    world.leave(120);
    let turns = 0;
    for (; turns < 50 && published().length < 119; turns++) {
      clock += 10;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(published()).toHaveLength(119);
    expect(new Set(published()).size).toBe(119);
    expect(published()).not.toContain(120);
    // The chunks after the first ran on later turns: the whole tick is their wall time, not the sum of
    // its blocks (each of which took no time on this clock).
    expect(turns).toBeGreaterThan(1);
    const stats = world.tickStats();
    expect(stats.ticks).toBe(1);
    expect(stats.stepP99).toBe(0);
    expect(stats.longestBlockP99).toBe(0);
    expect(stats.p99).toBe(turns * 10);
  });

  test("spore consumption: near is accepted and grows the player; far, unknown and own fresh drops are refused", () => {
    const { world, out, advance } = newWorld();
    const p = world.join(1, profile("a"));
    const [near, far] = [...world.spores.values()];
    near!.x = p.x + 30;
    near!.y = p.y;
    far!.x = p.x + 500;
    expect(world.consumeSpore(1, far!.id)).toBe(false);
    expect(world.consumeSpore(1, 999_999)).toBe(false);
    const before = p.radius;
    expect(world.consumeSpore(1, near!.id)).toBe(true);
    expect(p.radius).toBeCloseTo(rules.grownRadius(before, near!.radius));
    expect(world.spores.has(near!.id)).toBe(false);
    expect(out.others.at(-1)).toEqual([1, { $case: "sporeConsumed", value: { sporeId: near!.id } }]);
    expect(world.consumeSpore(1, near!.id)).toBe(false);

    // A spore this player dropped can be eaten only after (r + R + 10) / speed seconds.
    p.radius = 200;
    let dropped: number | undefined;
    for (let i = 0; i < 2000 && dropped === undefined; i++) {
      world.tick();
      const spore = out.all.find(([sender, m]) => sender === 1 && m.$case === "spore");
      if (spore) dropped = (spore[1] as Extract<Msg, { $case: "spore" }>).value.id;
    }
    expect(dropped).toBeDefined();
    expect(world.consumeSpore(1, dropped!)).toBe(false);
    expect(out.refusals.at(-1)).toContain("too recently");
    advance(2000);
    expect(world.consumeSpore(1, dropped!)).toBe(true);
  });

  test("dropping a spore takes its mass off the player", () => {
    const { world, out } = newWorld(3);
    const p = world.join(1, profile("a"));
    p.radius = 400;
    for (let i = 0; i < 1000 && !out.all.some(([, m]) => m.$case === "spore"); i++) {
      const before = p.radius;
      world.tick();
      if (p.radius !== before) {
        const r = rules.droppedSporeRadius(before);
        expect(rules.massOf(p.radius)).toBeCloseTo(rules.massOf(before) - rules.massOf(r));
      }
    }
    expect(out.all.some(([, m]) => m.$case === "spore")).toBe(true);
  });

  test("player consumption needs more than 1.5 × the mass; the victim respawns keeping name, colour and best score", () => {
    const { world, out } = newWorld();
    const big = world.join(1, profile("big"));
    const small = world.join(2, { name: "Small", color: 0xabcdef, bestScore: 5000, scoreKey: 77 });
    small.x = big.x + 30;
    small.y = big.y;
    big.radius = 24; // 1.44 × the mass of a radius-20 player
    expect(world.consumePlayer(1, 2)).toBe(false);
    big.radius = 25; // 1.56 ×
    expect(world.consumePlayer(1, 2)).toBe(true);
    expect(big.radius).toBeCloseTo(rules.grownRadius(25, 20));
    expect(out.others.at(-1)).toEqual([1, { $case: "playerConsumed", value: { playerId: 2 } }]);
    const reborn = world.players.get(2)!;
    expect(reborn).not.toBe(small);
    expect(reborn).toMatchObject({ name: "Small", color: 0xabcdef, bestScore: 5000, scoreKey: 77, radius: 20 });
    expect(out.direct.at(-1)).toEqual([2, 2, expect.objectContaining({ $case: "player" })]);
    expect(world.consumePlayer(1, 1)).toBe(false);
  });

  test("best score = max(best, round(π r²)) after every growth, handed out for saving once", () => {
    const { world } = newWorld();
    const p = world.join(1, { name: "a", color: 0, bestScore: 0, scoreKey: 9 });
    const spore = [...world.spores.values()][0]!;
    spore.x = p.x;
    spore.y = p.y;
    world.consumeSpore(1, spore.id);
    expect(p.bestScore).toBe(rules.bestScoreOf(p.radius));
    expect(world.takeDirtyScores()).toEqual([[9, p.bestScore, "a"]]);
    expect(world.takeDirtyScores()).toEqual([]);
  });

  test("every 2 s, up to 10 spores come back, to at most 1000", () => {
    const { world, out } = newWorld();
    const p = world.join(1, profile("a"));
    for (const spore of [...world.spores.values()].slice(0, 15)) {
      spore.x = p.x;
      spore.y = p.y;
      world.consumeSpore(1, spore.id);
    }
    expect(world.spores.size).toBe(985);
    for (let i = 0; i < 40; i++) world.tick();
    expect(world.spores.size).toBe(995);
    expect(out.all.filter(([sender, m]) => sender === 0 && m.$case === "spore")).toHaveLength(10);
    for (let i = 0; i < 80; i++) world.tick();
    expect(world.spores.size).toBe(1000);
  });
});

describe("the game over real sockets", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer(radiusRumble, { seed: 1234 });
  });
  afterAll(() => srv.stop());

  let n = 0;
  async function player(): Promise<TestClient> {
    const c = await TestClient.connect(srv.url);
    const name = `Gamer${++n}`;
    expect(await register(c, name, "password", 0x336699 + n)).toBe("ok");
    expect(await login(c, name, "password")).toBe("ok");
    return c;
  }

  test("a logged-in client sees its own player, then 1000 spores in batches of at most 20", async () => {
    const c = await player();
    const own = await c.expect("player");
    expect(own.value.id).toBe(c.id);
    expect(own.value.radius).toBe(20);
    expect(own.value.name).toBe(`Gamer${n}`);
    const ids = new Set<number>();
    while (ids.size < 1000) {
      const batch = (await c.expect("sporesBatch")).value.spores;
      expect(batch.length).toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(20);
      for (const s of batch) ids.add(s.id);
    }
    await c.close();
  });

  test("after a heading, positions advance at 150 units/s at about 20 Hz, seen by the player and by a second client", async () => {
    const [a, b] = [await player(), await player()];
    a.send({ $case: "playerDirection", value: { direction: 0 } });
    await Bun.sleep(100);
    for (const c of [a, b]) c.packets.splice(0);
    await Bun.sleep(1000);
    for (const c of [a, b]) {
      const updates = c.packets.filter((p) => p.msg?.$case === "player" && p.msg.value.id === a.id).map((p) => (p.msg as Extract<Msg, { $case: "player" }>).value);
      expect(updates.length).toBeGreaterThanOrEqual(16);
      expect(updates.length).toBeLessThanOrEqual(23);
      const perTick = (updates.at(-1)!.x - updates[0]!.x) / (updates.length - 1);
      expect(perTick).toBeCloseTo(7.5, 1);
      expect(updates.every((u) => u.speed === 150 && u.direction === 0)).toBe(true);
    }
    await Promise.all([a.close(), b.close()]);
  });

  test("spore consumption is accepted near and rejected far; the others hear of the accepted one", async () => {
    const [a, b] = [await player(), await player()];
    const me = srv.rooms.get<WorldRoom>(WORLD_ROOM)!.world.players.get(a.id)!;
    const spores = [...srv.rooms.get<WorldRoom>(WORLD_ROOM)!.world.spores.values()];
    const far = spores.find((s) => Math.hypot(s.x - me.x, s.y - me.y) > 1000)!;
    a.send({ $case: "sporeConsumed", value: { sporeId: far.id } });
    await Bun.sleep(100);
    expect(srv.rooms.get<WorldRoom>(WORLD_ROOM)!.world.spores.has(far.id)).toBe(true);
    expect(me.radius).toBe(20);

    const near = spores.find((s) => s !== far)!;
    near.x = me.x + 25;
    near.y = me.y;
    a.send({ $case: "sporeConsumed", value: { sporeId: near.id } });
    const heard = await b.expect("sporeConsumed");
    expect(heard).toEqual({ senderId: a.id, value: { sporeId: near.id } });
    expect(me.radius).toBeGreaterThan(20);
    expect(a.packets.some((p) => p.msg?.$case === "sporeConsumed")).toBe(false);
    await Promise.all([a.close(), b.close()]);
  });

  test("eating a player needs more than 1.5 × its mass; the eaten one respawns with its colour; the best score is saved", async () => {
    const [eater, victim, watcher] = [await player(), await player(), await player()];
    const world = srv.rooms.get<WorldRoom>(WORLD_ROOM)!.world;
    const e = world.players.get(eater.id)!;
    const v = world.players.get(victim.id)!;
    const victimColor = v.color;
    v.x = e.x + 20;
    v.y = e.y;
    eater.send({ $case: "playerConsumed", value: { playerId: victim.id } });
    await Bun.sleep(100);
    expect(world.players.get(victim.id)).toBe(v);

    e.radius = 30;
    eater.send({ $case: "playerConsumed", value: { playerId: victim.id } });
    for (const c of [victim, watcher]) expect(await c.expect("playerConsumed")).toEqual({ senderId: eater.id, value: { playerId: victim.id } });
    // The victim's fresh entry: its own player packet at radius 20, same colour.
    for (;;) {
      const p = await victim.expect("player");
      if (p.value.id === victim.id && p.value.radius === 20 && (p.value.x !== v.x || p.value.y !== v.y)) {
        expect(p.value.color).toBe(victimColor);
        break;
      }
    }
    expect(world.players.get(victim.id)).not.toBe(v);
    const score = rules.bestScoreOf(rules.grownRadius(30, 20));
    await eater.close();
    await waitFor(() => !world.players.has(eater.id), 3000, "the eater to leave");
    const bestScore = async () => {
      const { userId } = (await srv.services.store.findAccount(`Gamer${n - 2}`))!;
      return (await srv.services.store.boards.loadRecords("hiscores", 0)).find((r) => r.owner === userId)?.score;
    };
    await waitFor(async () => (await bestScore()) === score, 3000, "the best score to be saved");
    expect(await bestScore()).toBe(score);
    await Promise.all([victim.close(), watcher.close()]);
  });

  test("logout and close remove the player for the others", async () => {
    const [a, b, c] = [await player(), await player(), await player()];
    a.send({ $case: "disconnect", value: { reason: "logout" } });
    expect((await c.expect("disconnect")).senderId).toBe(a.id);
    await b.close();
    expect((await c.expect("disconnect")).senderId).toBe(b.id);
    expect(srv.rooms.get<WorldRoom>(WORLD_ROOM)!.world.players.has(a.id)).toBe(false);
    expect(srv.rooms.get<WorldRoom>(WORLD_ROOM)!.world.players.has(b.id)).toBe(false);
    await Bun.sleep(100);
    c.packets.splice(0);
    await Bun.sleep(200);
    const seen = new Set(c.packets.filter((p) => p.msg?.$case === "player").map((p) => (p.msg as Extract<Msg, { $case: "player" }>).value.id));
    expect(seen.has(a.id) || seen.has(b.id)).toBe(false);
    expect(seen.has(c.id)).toBe(true);
    await c.close();
  });
});
