// The second game, Duel, over real sockets through the testkit: the API a game author uses.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { duel } from "../src/games/duel/index.ts";
import type { DuelRoom } from "../src/games/duel/duel-room.ts";
import { PAPER, ROCK, ROUND_SECONDS, SCISSORS } from "../src/games/duel/rules.ts";
import { newChat } from "../src/packets/index.ts";
import { startServerProcess, type ServerProcess } from "../src/testing/server-process.ts";
import { defaultConfig } from "../src/config.ts";
import { addResult, RECORD_KEY, RECORDS, type DuelRecord } from "../src/games/duel/records.ts";
import { openStore } from "../src/store/open.ts";
import { Storage } from "../src/store/storage.ts";
import { clusterOf, clusterOnRedis, describeRedis, describeStores, LogCapture, login, register, startTestServer, storeOptions, TestClient, type TestServer, waitFor } from "./helpers.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer(duel);
});
afterAll(() => srv.stop());

let players = 0;
/** A client registered, logged in and in the Ready state. */
async function duelist(url = srv.url): Promise<TestClient> {
  const name = `Duelist${++players}`;
  const c = await TestClient.connect(url);
  expect(await register(c, name, "password")).toBe("ok");
  expect(await login(c, name, "password")).toBe("ok");
  return c;
}

/** Two players who asked for a match, in that order; resolves once both got match_start. */
async function match(url = srv.url) {
  const a = await duelist(url);
  const b = await duelist(url);
  a.send({ $case: "matchRequest", value: {} });
  await a.expect("okResponse");
  b.send({ $case: "matchRequest", value: {} });
  const startA = await a.expect("matchStart");
  const startB = await b.expect("matchStart");
  return { a, b, startA: startA.value, startB: startB.value };
}

const hand = (c: TestClient, h: number) => c.send({ $case: "duelThrow", value: { hand: h } });

describe("duel", () => {
  test("two players are paired, play rounds, and the first to two wins; both are back in Ready", async () => {
    const { a, b, startA, startB } = await match();
    expect(startA).toMatchObject({ opponentId: b.id, opponentName: expect.stringMatching(/^Duelist/), winsNeeded: 2 });
    expect(startB.opponentId).toBe(a.id);
    expect(startA.matchId).toBe(startB.matchId);

    hand(a, ROCK);
    hand(b, SCISSORS);
    for (const c of [a, b]) {
      const round = (await c.expect("roundResult")).value;
      expect(round.round).toBe(1);
      expect(round.winnerId).toBe(a.id);
      expect(round.hands).toEqual([{ playerId: a.id, hand: ROCK }, { playerId: b.id, hand: SCISSORS }]);
    }
    hand(a, PAPER);
    hand(b, PAPER);
    for (const c of [a, b]) expect((await c.expect("roundResult")).value.winnerId).toBe(0);
    hand(b, ROCK);
    hand(a, PAPER);
    for (const c of [a, b]) expect((await c.expect("roundResult")).value.winnerId).toBe(a.id);
    for (const c of [a, b]) expect((await c.expect("matchOver")).value).toEqual({ winnerId: a.id, reason: "won 2 rounds" });

    await waitFor(() => srv.rooms.get(startA.matchId) === undefined, 2000, "the match room to be disposed");
    // Back in Ready: they may ask again, and are paired again in a new room.
    a.send({ $case: "matchRequest", value: {} });
    await a.expect("okResponse");
    b.send({ $case: "matchRequest", value: {} });
    expect((await b.expect("matchStart")).value.matchId).not.toBe(startA.matchId);
    await Promise.all([a.close(), b.close()]);
  });

  test("several matches run at once, each with its own topic", async () => {
    const one = await match();
    const two = await match();
    expect(one.startA.matchId).not.toBe(two.startA.matchId);
    one.a.send(newChat("in match one"));
    expect((await one.b.expect("chat")).value.msg).toBe("in match one");
    hand(two.a, ROCK);
    hand(two.b, PAPER);
    expect((await two.a.expect("roundResult")).value.winnerId).toBe(two.b.id);
    // Nothing of one match reaches the other: once each sender's frames are handled and each other
    // socket's writes have arrived, nothing crossed.
    await one.a.roundTrip();
    for (const c of [two.a, two.b]) await c.roundTrip();
    await one.a.roundTrip();
    expect(two.a.take("chat")).toEqual([]);
    expect(two.b.take("chat")).toEqual([]);
    expect(one.a.take("roundResult")).toEqual([]);
    await Promise.all([one.a, one.b, two.a, two.b].map((c) => c.close()));
  });

  test("a player who leaves mid-match forfeits; the opponent is told once and is back in Ready", async () => {
    const { a, b, startA } = await match();
    hand(a, ROCK);
    await a.close();
    expect((await b.expect("disconnect")).senderId).toBe(a.id);
    expect((await b.expect("matchOver")).value).toEqual({ winnerId: b.id, reason: "opponent left" });
    await b.roundTrip();
    expect(b.take("disconnect")).toEqual([]);
    expect(srv.rooms.get(startA.matchId)).toBeUndefined();
    b.send({ $case: "matchRequest", value: {} });
    await b.expect("okResponse");
    await b.close();
  });

  test("a throw that is not a hand, or a second throw in a round, is refused", async () => {
    const { a, b, startA } = await match();
    hand(a, 7);
    hand(a, ROCK);
    hand(a, PAPER);
    hand(b, SCISSORS);
    const round = (await b.expect("roundResult")).value;
    expect(round.hands.find((h) => h.playerId === a.id)!.hand).toBe(ROCK);
    // A snapshot is the whole match; restored into a fresh instance it reads back the same.
    const room = srv.rooms.get<DuelRoom>(startA.matchId)!;
    const copy = srv.rooms.create<DuelRoom>("duel");
    copy.restore(room.snapshot());
    expect(copy.snapshot()).toEqual(room.snapshot());
    srv.rooms.dispose(copy.matchId);
    await Promise.all([a.close(), b.close()]);
  });

  test("a match kept across a restart finishes: its round's clock starts again, so a round nobody throws in still ends", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmo-duel-restart-"));
    const main = [process.execPath, join(import.meta.dir, "..", "src", "main.ts")];
    let proc = await startServerProcess(main, ["--game", "duel", "--data-dir", dir, "--log-level", "warn"]);
    try {
      const { a, b } = await match(proc.url);
      const tokens: string[] = [];
      for (const c of [a, b]) {
        c.send({ $case: "resumeTokenRequest", value: {} });
        tokens.push((await c.expect("resumeToken")).value.token);
      }
      expect(await proc.stop()).toBe(0);
      proc = await startServerProcess(main, ["--game", "duel", "--data-dir", dir, "--log-level", "warn"]);
      const back: TestClient[] = [];
      for (const [i, token] of tokens.entries()) {
        const c = await TestClient.connect(proc.url);
        c.send({ $case: "resumeRequest", value: { token } });
        expect((await c.expect("resumeResponse")).value).toMatchObject({ ok: true, id: [a, b][i]!.id });
        back.push(c);
      }
      // Nobody throws: the round ends on its clock (20 s from the start), a draw; then the match goes on to its end.
      const round = (await back[0]!.expect("roundResult", (ROUND_SECONDS + 5) * 1000)).value;
      expect(round).toMatchObject({ round: 1, winnerId: 0 });
      expect((await back[1]!.expect("roundResult")).value).toEqual(round);
      for (let i = 0; i < 2; i++) {
        hand(back[0]!, ROCK);
        hand(back[1]!, SCISSORS);
        expect((await back[1]!.expect("roundResult")).value.winnerId).toBe(a.id);
      }
      expect((await back[1]!.expect("matchOver")).value).toEqual({ winnerId: a.id, reason: "won 2 rounds" });
      await Promise.all(back.map((c) => c.close()));
    } finally {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("health and metrics report the game's own figures", async () => {
    const { a, b } = await match();
    const health = (await (await fetch(`http://127.0.0.1:${srv.port}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ game: "duel", matches: 1 });
    const metrics = await (await fetch(`http://127.0.0.1:${srv.port}/metrics`)).text();
    expect(metrics).toMatch(/^mmo_duel_matches 1$/m);
    await Promise.all([a.close(), b.close()]);
  });
});

describe("duel records", () => {
  const record = async (c: TestClient) => {
    c.send({ $case: "duelRecordRequest", value: {} });
    return (await c.expect("duelRecord")).value;
  };

  test("a match's result reaches both records and the wins board; a forfeit is a loss", async () => {
    const fresh = await duelist();
    expect(await record(fresh)).toEqual({ wins: 0, losses: 0, draws: 0 });
    await fresh.close();
    const { a, b } = await match();
    for (let i = 0; i < 2; i++) {
      hand(a, PAPER);
      hand(b, ROCK);
      await b.expect("roundResult");
    }
    await a.expect("matchOver");
    await waitFor(async () => (await record(a)).wins === 1, 3000, "the winner's record");
    expect(await record(b)).toEqual({ wins: 0, losses: 1, draws: 0 });
    // Another match, which b leaves: a forfeit.
    a.send({ $case: "matchRequest", value: {} });
    await a.expect("okResponse");
    b.send({ $case: "matchRequest", value: {} });
    await b.expect("matchStart");
    await b.close();
    await a.expect("matchOver");
    await waitFor(async () => (await record(a)).wins === 2, 3000, "the second win");
    const [name] = [(await srv.services.store.findAccount(`Duelist${players - 1}`))!.name];
    a.send({ $case: "duelBoardRequest", value: {} });
    const board = (await a.expect("duelBoard")).value.entries;
    expect(board.find((e) => e.name === name)).toEqual({ rank: 1, name, score: 2 });
    const again = await TestClient.connect(srv.url);
    expect(await login(again, `Duelist${players}`, "password")).toBe("ok");
    expect(await record(again)).toEqual({ wins: 0, losses: 2, draws: 0 });
    await Promise.all([a.close(), again.close()]);
  });

  test("nine rounds without a match winner end it: more round wins take it, equal is a draw", async () => {
    const { a, b } = await match();
    for (let round = 0; round < 9; round++) {
      hand(a, ROCK);
      hand(b, ROCK);
      await b.expect("roundResult");
    }
    for (const c of [a, b]) expect((await c.expect("matchOver", 5000)).value).toEqual({ winnerId: 0, reason: "a draw after 9 rounds" });
    await waitFor(async () => (await record(a)).draws === 1, 3000, "the draw");
    expect(await record(b)).toEqual({ wins: 0, losses: 0, draws: 1 });
    await Promise.all([a.close(), b.close()]);
  });
});

describeStores("duel records on two nodes", (kind) => {
  test("results of one player written at once through two stores on one database: none lost", async () => {
    const { databaseUrl = "" } = await storeOptions(kind);
    const dataDir = mkdtempSync(join(tmpdir(), "mmo-duel-records-"));
    const [one, two] = await Promise.all([1, 2].map(() => openStore({ dataDir, databaseUrl }, new LogCapture().logger, { exclusive: false })));
    try {
      const [r1, r2] = [one!, two!].map((store) => new Storage(store.objects, defaultConfig()).collection<DuelRecord>(RECORDS));
      // Ten matches of one player ending at once, five on each node.
      const outcomes = ["win", "loss", "draw", "win", "win", "loss", "win", "draw", "win", "loss"] as const;
      await Promise.all(outcomes.map((outcome, i) => addResult(i % 2 ? r1! : r2!, 77, outcome)));
      expect((await r1!.get(RECORD_KEY, 77))!.value).toEqual({ wins: 5, losses: 3, draws: 2 });
    } finally {
      await Promise.all([one!.close(), two!.close()]);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

test("the server runs Duel with --game duel", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mmo-duel-"));
  const proc = await startServerProcess([process.execPath, join(import.meta.dir, "..", "src", "main.ts")], ["--game", "duel", "--data-dir", dir]);
  try {
    const { a, b } = await match(proc.url);
    hand(a, SCISSORS);
    hand(b, PAPER);
    expect((await a.expect("roundResult")).value.winnerId).toBe(a.id);
    await Promise.all([a.close(), b.close()]);
  } finally {
    expect(await proc.stop()).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  }
}, 20_000);

describeRedis("duel across the nodes of a cluster", () => {
  const cluster = clusterOnRedis("mmo-duel-cluster-");
  const nodes = cluster.nodes;

  test("players who ask on two nodes get one match, played to its end on one node; a dead node's waiting player is never matched", async () => {
    for (const name of ["d1", "d2", "d3"]) await cluster.node(name, "--game", "duel");
    const [d1, d2, d3] = nodes as [ServerProcess, ServerProcess, ServerProcess];
    await waitFor(async () => (await Promise.all(nodes.map(clusterOf))).every((h) => h.nodes.length === 3), 8000, "three nodes");
    const a = await duelist(d1.url);
    const b = await duelist(d2.url);
    a.send({ $case: "matchRequest", value: {} });
    a.send({ $case: "matchRequest", value: {} });
    await a.expect("okResponse");
    b.send({ $case: "matchRequest", value: {} });
    const [startA, startB] = [(await a.expect("matchStart", 5000)).value, (await b.expect("matchStart", 5000)).value];
    expect(startA.matchId).toBe(startB.matchId);
    expect([startA.opponentId, startB.opponentId]).toEqual([b.id, a.id]);
    for (let i = 0; i < 2; i++) {
      hand(a, ROCK);
      hand(b, SCISSORS);
      for (const c of [a, b]) expect((await c.expect("roundResult", 5000)).value.winnerId).toBe(a.id);
    }
    for (const c of [a, b]) expect((await c.expect("matchOver", 5000)).value).toEqual({ winnerId: a.id, reason: "won 2 rounds" });
    // Both back in Ready, each on its own node; the records are written once.
    const record = async (c: TestClient) => {
      c.send({ $case: "duelRecordRequest", value: {} });
      return (await c.expect("duelRecord", 5000)).value;
    };
    await waitFor(async () => (await record(a)).wins === 1, 5000, "the winner's record");
    expect(await record(b)).toEqual({ wins: 0, losses: 1, draws: 0 });
    // The room is gone on every node.
    await waitFor(async () => (await Promise.all(nodes.map(async (n) => ((await (await fetch(`http://127.0.0.1:${n.port}/healthz`)).json()) as { matches: number }).matches))).every((m) => m === 0), 5000, "the match room to be closed everywhere");

    // A player waiting on a node that dies is not matched: the next two askers meet each other.
    const ghost = await duelist(d3.url);
    ghost.send({ $case: "matchRequest", value: {} });
    await ghost.expect("okResponse");
    d3.proc.kill("SIGKILL");
    await waitFor(async () => (await clusterOf(d1)).nodes.length === 2, 8000, "d3 to be gone");
    const [c, d] = [await duelist(d1.url), await duelist(d2.url)];
    c.send({ $case: "matchRequest", value: {} });
    await c.expect("okResponse");
    d.send({ $case: "matchRequest", value: {} });
    expect((await d.expect("matchStart", 5000)).value.opponentId).toBe(c.id);
    expect((await c.expect("matchStart", 5000)).value.opponentId).toBe(d.id);
    await Promise.all([a, b, c, d].map((x) => x.close()));
  }, 60_000);
});
