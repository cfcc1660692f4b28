// The testkit itself: the servers a test run starts do not outlive it, however it ends.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { defineGame } from "../src/rooms/game.ts";
import { loginDevice } from "../src/testing/client.ts";
import { describePostgres, describeRedis, radiusRumble, startTestServer, TestClient, waitFor } from "./helpers.ts";

/** Whether something accepts connections on the loopback port. */
async function listening(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

describePostgres("a killed test run", () => {
  describeRedis("with PostgreSQL and Redis", () => {
    test("a run killed with SIGKILL leaves no PostgreSQL or Redis running, and no folder behind", async () => {
      const run = Bun.spawn([process.execPath, join(import.meta.dir, "fixtures", "services-then-killed.ts")], { stdout: "pipe", stderr: "inherit" });
      const reader = run.stdout.getReader();
      let text = "";
      while (!text.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the run ended before its services were up: ${text}`);
        text += new TextDecoder().decode(value);
      }
      const where = JSON.parse(text.split("\n")[0]!) as { pgPort: number; pgDir: string; redisPort: number };
      expect(await listening(where.pgPort)).toBe(true);
      expect(await listening(where.redisPort)).toBe(true);
      run.kill("SIGKILL");
      await run.exited;
      await waitFor(async () => !(await listening(where.pgPort)) && !(await listening(where.redisPort)) && !existsSync(where.pgDir), 20_000, "the services to stop after their run was killed");
    }, 60_000);
  });
});

test("the testkit: a clock for the leaderboards moves a weekly board into its next week; a test client's user id", async () => {
  let now = Date.UTC(2026, 10, 30, 12); // a Monday
  const weekly = defineGame({
    ...radiusRumble,
    name: "weekly",
    create(ctx) {
      ctx.leaderboards.define({ id: "weekly", order: "desc", operator: "best", reset: "weekly" });
      return radiusRumble.create(ctx);
    },
  });
  const srv = await startTestServer(weekly, {}, { boardClock: () => now });
  try {
    const c = await TestClient.connect(srv.url);
    const value = await loginDevice(c, `testkit-${crypto.randomUUID()}`);
    expect(srv.userIdOf(c)).toBe(value.userId);
    const board = srv.services.leaderboards.get("weekly")!;
    await board.submit(value.userId, 42, { name: value.displayName });
    expect(board.top(1)).toMatchObject([{ id: value.userId, score: 42 }]);
    now += 7 * 24 * 3600_000;
    expect(board.top(1)).toEqual([]);
    await c.close();
    expect(srv.userIdOf(c)).toBeUndefined();
  } finally {
    await srv.stop();
  }
});
