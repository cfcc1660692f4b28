// The cluster on a real Redis (redis-server started by the tests on a free port) with real nodes:
// server processes on free ports. Membership, ids unique across nodes and across a Redis restart,
// and the start-up errors.
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisClient } from "bun";
import { ALL_CHANNEL } from "../src/cluster/bus.ts";
import { BatchWriter, FrameKind } from "../src/cluster/frames.ts";
import { ClusterIds, ID_BLOCK } from "../src/cluster/ids.ts";
import { Seal } from "../src/cluster/seal.ts";
import { encodePacket } from "../src/packets/index.ts";
import { NODE_PREFIX } from "../src/cluster/membership.ts";
import { ClusterSessions } from "../src/cluster/sessions.ts";
import { TestRedis } from "../src/testing/redis.ts";
import { startServerProcess, type ServerProcess } from "../src/testing/server-process.ts";
import { clusterOf, describeRedis, NODE_FROM_SOURCE as NODE, TestClient, waitFor } from "./helpers.ts";

describeRedis("cluster", () => {
  let redis: TestRedis;
  let dataDir: string;
  const nodes: ServerProcess[] = [];
  /** A node on the shared Redis and the shared SQLite file. */
  async function startNode(name: string): Promise<ServerProcess> {
    // The test's hundreds of connections all come from 127.0.0.1.
    const node = await startServerProcess(NODE, ["--redis-url", redis.url, "--node-name", name, "--data-dir", dataDir, "--log-level", "warn", "--max-clients-per-ip", "0"]);
    nodes.push(node);
    return node;
  }
  beforeAll(async () => {
    redis = await TestRedis.start();
  });
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "mmo-cluster-"));
  });
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await redis.destroy();
  });

  test("three nodes see each other; ids are unique over 300 connections spread over them", async () => {
    const three = await Promise.all(["n1", "n2", "n3"].map(startNode));
    await waitFor(async () => (await Promise.all(three.map(clusterOf))).every((c) => c.nodes.join() === "n1,n2,n3"), 5000, "every node to see the three");
    expect((await clusterOf(three[1]!)).node).toBe("n2");
    expect((await clusterOf(three[1]!)).bus).toBe("up");
    const clients = await Promise.all(Array.from({ length: 300 }, (_, i) => TestClient.connect(three[i % 3]!.url)));
    const ids = clients.map((c) => c.id);
    expect(new Set(ids).size).toBe(300);
    for (const id of ids) {
      expect(id).toBeGreaterThan(0);
      expect(id).toBeLessThan(2 ** 53);
    }
    await Promise.all(clients.map((c) => c.close()));
  }, 30_000);

  test("a node killed with SIGKILL is gone for the others within a few seconds; one stopped leaves at once", async () => {
    const [a, b, c] = await Promise.all(["k1", "k2", "k3"].map(startNode));
    await waitFor(async () => (await clusterOf(a!)).nodes.length === 3, 5000, "three nodes");
    b!.proc.kill("SIGKILL");
    const killedAt = performance.now();
    await waitFor(async () => !(await clusterOf(a!)).nodes.includes("k2"), 6000, "k2 to expire");
    expect(performance.now() - killedAt).toBeLessThan(5000);
    await c!.stop();
    await waitFor(async () => (await clusterOf(a!)).nodes.join() === "k1", 1500, "k3 to leave");
    // Its name is free again.
    const again = await startNode("k2");
    await waitFor(async () => (await clusterOf(again)).nodes.join() === "k1,k2", 3000, "k2 back");
  }, 30_000);

  test("Redis killed and started again empty: local traffic goes on, nodes re-register, ids stay unique", async () => {
    const [a, b] = await Promise.all(["r1", "r2"].map(startNode));
    const before = await Promise.all(Array.from({ length: 20 }, (_, i) => TestClient.connect((i % 2 ? a : b)!.url)));
    await redis.kill();
    await waitFor(async () => (await clusterOf(a!)).bus === "down", 6000, "the bus to be down");
    // Connections still work on each node (their ids come from blocks reserved before).
    const during = await Promise.all(Array.from({ length: 10 }, (_, i) => TestClient.connect((i % 2 ? a : b)!.url)));
    await redis.startServer();
    await waitFor(async () => (await Promise.all([a!, b!].map(clusterOf))).every((c) => c.bus === "up" && c.nodes.join() === "r1,r2"), 15_000, "both nodes back");
    // Enough connections to use up the blocks reserved before the restart: the new blocks must start above every id handed out.
    const after: TestClient[] = [];
    for (let round = 0; round < 4; round++) after.push(...(await Promise.all(Array.from({ length: 300 }, (_, i) => TestClient.connect((i % 2 ? a : b)!.url)))));
    const ids = [...before, ...during, ...after].map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    await Promise.all([...before, ...during, ...after].map((c) => c.close()));
  }, 60_000);

  test("id blocks: two nodes never overlap, and after Redis loses its counter every new block starts above every id used", async () => {
    const clients = [new RedisClient(redis.url), new RedisClient(redis.url)];
    try {
      const [a, b] = clients.map((c) => new ClusterIds(c, (err) => { throw err; }));
      await Promise.all([a!.start(), b!.start()]);
      const take = async (ids: ClusterIds, n: number) => {
        const got: number[] = [];
        for (let i = 0; i < n; i++) {
          got.push(ids.next()!);
          if (i % 100 === 0) await Bun.sleep(5); // lets the next block be reserved
        }
        return got;
      };
      const before = [...(await take(a!, 2 * ID_BLOCK)), ...(await take(b!, 3 * ID_BLOCK))];
      await clients[0]!.send("FLUSHALL", []);
      // Past the blocks already reserved, each node reserves anew from an empty Redis.
      const after = [...(await take(a!, 3 * ID_BLOCK)), ...(await take(b!, 3 * ID_BLOCK))];
      const all = [...before, ...after];
      expect(new Set(all).size).toBe(all.length);
      expect(all.every((id) => id > 0 && id < 2 ** 53)).toBe(true);
      // The last block each node took came from the flushed Redis, and lies above everything before.
      expect(Math.min(...after.slice(-ID_BLOCK / 2), ...after.slice(2 * ID_BLOCK, 2 * ID_BLOCK + 1))).toBeGreaterThan(Math.max(...before));
    } finally {
      for (const c of clients) c.close();
    }
  });

  test("a node pushes back the expiry of the sessions it holds, not of those another node took; a released one is gone", async () => {
    const client = new RedisClient(redis.url);
    await client.connect();
    try {
      const mine = new ClusterSessions(client, "s1");
      const theirs = new ClusterSessions(client, "s2");
      await client.send("SET", [`${NODE_PREFIX}s1`, "{}", "PX", "60000"]);
      expect(await mine.claim(41)).toBe(true);
      expect(await mine.claim(42)).toBe(true);
      await client.send("PEXPIRE", ["mmo:session:41", "1000"]);
      // Another node took 42 over (a session resumed there).
      await theirs.take(42);
      await client.send("PEXPIRE", ["mmo:session:42", "1000"]);
      expect(await mine.refresh()).toBe(1);
      expect(Number(await client.send("PTTL", ["mmo:session:41"]))).toBeGreaterThan(10 * 60_000);
      expect(Number(await client.send("PTTL", ["mmo:session:42"]))).toBeLessThanOrEqual(1000);
      await mine.release(41);
      expect(await client.send("EXISTS", ["mmo:session:41"])).toBe(0);
      expect(await mine.refresh()).toBe(0);
    } finally {
      client.close();
    }
  });

  test("a Redis that cannot be reached, or a name a live node holds, stops the start: one line, exit 2", async () => {
    const run = (...args: string[]) => Bun.spawnSync([...NODE, "--port", "0", "--data-dir", dataDir, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env } });
    const unreachable = run("--redis-url", "redis://user:s3cret@127.0.0.1:1");
    expect(unreachable.exitCode).toBe(2);
    const line = unreachable.stderr.toString().trim();
    expect(line).toMatch(/^mmo-server: cannot join the cluster at redis:\/\/user:\*\*\*@127\.0\.0\.1:1/);
    expect(line).not.toContain("s3cret");
    await startNode("taken");
    const clash = run("--redis-url", redis.url, "--node-name", "taken");
    expect(clash.exitCode).toBe(2);
    expect(clash.stderr.toString()).toContain('the node name "taken" is held by a live node');
    const bad = run("--redis-url", "http://127.0.0.1:6379");
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.toString()).toContain("expected a redis:// or rediss:// URL");
    const secretless = Bun.spawnSync([...NODE, "--port", "0", "--data-dir", dataDir, "--redis-url", redis.url], { stdout: "pipe", stderr: "pipe", env: { ...process.env, MMO_CLUSTER_SECRET: "" } });
    expect(secretless.exitCode).toBe(2);
    expect(secretless.stderr.toString()).toContain("a cluster needs a secret: start every node with the same --cluster-secret");
  }, 30_000);

  test("a batch published to the bus without the secret (forged, unsigned, or of another format) changes nothing and is counted", async () => {
    const [a, b] = [await startNode("forge1"), await startNode("forge2")];
    await waitFor(async () => (await Promise.all([a, b].map(clusterOf))).every((c) => c.nodes.includes("forge1") && c.nodes.includes("forge2")), 8000, "both nodes");
    const lobby = await TestClient.connect(b.url);
    // A lobby chat as node forge1 would relay it, in the batch format: unsigned, then signed with another secret.
    const forged = new BatchWriter("forge1");
    forged.add({ kind: FrameKind.topic, topic: "lobby", sender: 0, exclude: false, superseded: false, bytes: encodePacket(0, { $case: "chat", value: { msg: "forged" } }) });
    const batch = forged.finish(Date.now());
    const publisher = new RedisClient(redis.url);
    try {
      await publisher.connect();
      await publisher.send("PUBLISH", [ALL_CHANNEL, Buffer.from(batch).toString("latin1")]);
      await publisher.send("PUBLISH", [ALL_CHANNEL, new Seal("not this cluster's secret").message(batch).toString("latin1")]);
    } finally {
      publisher.close();
    }
    const rejected = async () => Number((await (await fetch(`http://127.0.0.1:${b.port}/metrics`)).text()).match(/^mmo_bus_rejected_total (\d+)/m)?.[1] ?? 0);
    await waitFor(async () => (await rejected()) >= 2, 5000, "both batches rejected");
    await lobby.roundTrip();
    expect(lobby.take("chat")).toEqual([]);
    // The nodes' own traffic still flows: a chat on s1 reaches s2's lobby.
    const speaker = await TestClient.connect(a.url);
    speaker.send({ $case: "chat", value: { msg: "real" } });
    expect((await lobby.expect("chat", 3000)).value.msg).toBe("real");
    lobby.close();
    speaker.close();
  }, 30_000);
});
