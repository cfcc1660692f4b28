// The testkit itself: the servers a test run starts do not outlive it, however it ends.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describePostgres, describeRedis, waitFor } from "./helpers.ts";

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
