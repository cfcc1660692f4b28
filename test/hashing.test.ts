// Password hashing is what a client can make cost the most: a bounded queue that takes turns by
// address, and registrations limited per address, so that a flood never stands between a real user
// and their login.
import { describe, expect, test } from "bun:test";
import { DEFAULT_HASH_QUEUE, HashQueue, QueueFullError } from "../src/accounts/hash-queue.ts";
import { Reason } from "../src/accounts/rules.ts";
import { login, register, radiusRumble, startTestServer, TestClient, waitFor } from "./helpers.ts";

/** A task that runs until released, recording when it started. */
function gate(started: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return { task: () => (started.push(name), done), release: () => release() };
}

describe("hash queue", () => {
  test("addresses take turns: a newcomer waits for one of the flood's hashes, not all of them", async () => {
    const queue = new HashQueue({ workers: 1, perAddress: 100, total: 100 });
    const started: string[] = [];
    const gates = Array.from({ length: 6 }, (_, i) => gate(started, `flood${i}`));
    const runs = gates.map((g) => queue.run("198.51.100.1", g.task));
    const newcomer = gate(started, "newcomer");
    const late = queue.run("203.0.113.7", newcomer.task);
    expect(started).toEqual(["flood0"]);
    gates[0]!.release();
    await waitFor(() => started.length === 2);
    gates[1]!.release();
    await waitFor(() => started.length === 3);
    // The flood's address had its turn (flood1), then the newcomer's.
    expect(started).toEqual(["flood0", "flood1", "newcomer"]);
    newcomer.release();
    for (const g of gates) g.release();
    await Promise.all([...runs, late]);
    expect(started.length).toBe(7);
    expect(queue.length).toBe(0);
  });

  test("bounded per address and in all: past either bound, refused at once", async () => {
    const queue = new HashQueue({ workers: 1, perAddress: 2, total: 3 });
    const started: string[] = [];
    const running = gate(started, "running");
    const first = queue.run("a", running.task);
    const waiting = [queue.run("a", async () => {}), queue.run("a", async () => {})];
    await expect(queue.run("a", async () => {})).rejects.toBeInstanceOf(QueueFullError);
    waiting.push(queue.run("b", async () => {}));
    await expect(queue.run("c", async () => {})).rejects.toThrow(/3 requests already wait/);
    running.release();
    await Promise.all([first, ...waiting]);
    expect(queue.length).toBe(0);
  });
});

describe("registrations per address", () => {
  test("a burst, then the steady rate, refused with a reason saying so; another address is not affected", async () => {
    const srv = await startTestServer(radiusRumble, { trustProxy: ["127.0.0.1"], registerBurst: 4, registerPerMinute: 60 });
    try {
      const from = (address: string) => TestClient.connect(srv.url, { headers: { "X-Forwarded-For": address } });
      const [crowd, neighbour] = await Promise.all([from("198.51.100.20"), from("198.51.100.21")]);
      for (let i = 0; i < 4; i++) expect(await register(crowd, `Pupil${i}`, "password")).toBe("ok");
      expect(await register(crowd, "Pupil4", "password")).toBe(Reason.registerLimited);
      expect(await register(neighbour, "Neighbour", "password")).toBe("ok");
      expect(srv.logs.has("Registration of \"Pupil4\" refused: over 60 a minute from 198.51.100.20")).toBe(true);
      // 60 a minute: one more a second later.
      await Bun.sleep(1100);
      expect(await register(crowd, "Pupil4", "password")).toBe("ok");
      expect(await register(crowd, "Pupil5", "password")).toBe(Reason.registerLimited);
      expect(srv.services.stats.registrations.limited).toBe(2);
    } finally {
      await srv.stop();
    }
  });

  test("the default lets a classroom of 60 register at once, and stops the 61st", async () => {
    const srv = await startTestServer(radiusRumble);
    try {
      const clients = await Promise.all(Array.from({ length: 61 }, () => TestClient.connect(srv.url)));
      const answers = await Promise.all(clients.map((c, i) => register(c, `Student${i}`, "password")));
      expect(answers.filter((a) => a === "ok").length).toBe(60);
      expect(answers.filter((a) => a === Reason.registerLimited).length).toBe(1);
      await Promise.all(clients.map((c) => c.close()));
    } finally {
      await srv.stop();
    }
  }, 30_000);
});

describe("logins under a flood", () => {
  test("a flood of logins from one address: the excess is refused at once, and another address's login goes ahead of the flood's queue", async () => {
    const srv = await startTestServer(radiusRumble, { trustProxy: ["127.0.0.1"] });
    try {
      const setup = await TestClient.connect(srv.url);
      expect(await register(setup, "Shared", "password")).toBe("ok");
      expect(await register(setup, "Canary", "canary pw")).toBe("ok");
      await setup.close();
      const FLOOD = DEFAULT_HASH_QUEUE.perAddress + 30;
      const flood = await Promise.all(Array.from({ length: FLOOD }, () => TestClient.connect(srv.url, { headers: { "X-Forwarded-For": "198.51.100.66" } })));
      const canary = await TestClient.connect(srv.url, { headers: { "X-Forwarded-For": "203.0.113.5" } });
      const order: string[] = [];
      // The flood's logins wait their turn behind 64 slow hashes: on a busy machine, longer than a login usually may.
      const floodAnswers = flood.map((c) => login(c, "Shared", "password", 25_000).then((a) => (order.push("flood"), a)));
      await waitFor(() => srv.services.accounts.hashQueue.length > 0);
      const canaryAnswer = login(canary, "Canary", "canary pw").then((a) => (order.push("canary"), a));
      const answers = await Promise.all(floodAnswers);
      expect(await canaryAnswer).toBe("ok");
      // One login of the shared account, the rest "already logged in" or refused as busy.
      expect(answers.filter((a) => a === "ok").length).toBe(1);
      const busy = srv.services.stats.logins.busy ?? 0;
      expect(busy).toBeGreaterThanOrEqual(FLOOD - DEFAULT_HASH_QUEUE.perAddress - DEFAULT_HASH_QUEUE.workers - 1);
      // A login refused because the queue is full is told so: the password was never checked.
      expect(answers.filter((a) => a === Reason.busy).length).toBe(busy);
      expect(srv.logs.has("refused: the password queue is full")).toBe(true);
      // The canary waited for about one of the flood's hashes per worker, not for the flood's queue.
      const hashedBeforeCanary = order.indexOf("canary") - busy;
      expect(hashedBeforeCanary).toBeLessThanOrEqual(2 * DEFAULT_HASH_QUEUE.workers + 1);
      await Promise.all([...flood, canary].map((c) => c.close()));
    } finally {
      await srv.stop();
    }
  }, 30_000);
});
