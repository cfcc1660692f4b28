// The testkit's Redis: a real redis-server (Debian's `redis-server` package) on a free loopback port,
// with no persistence (a restart starts empty, the harshest case for the cluster), in a temporary
// folder; killed and started again on the same port to test an outage.
import { RedisClient } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./postgres.ts";
import { cleanUpAfterThisProcess, type Watchdog } from "./watchdog.ts";

/** Why the Redis tests cannot run here, or undefined when they can. */
export function redisUnavailable(): string | undefined {
  return Bun.which("redis-server") || Bun.which("/usr/bin/redis-server") ? undefined : "Redis is not installed (redis-server not found; apt-get install redis-server)";
}

export class TestRedis {
  private proc: ReturnType<typeof Bun.spawn> | undefined;
  /** Kills the server and removes its folder if this process ends without destroy(). */
  private watchdog: Watchdog | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<TestRedis> {
    const redis = new TestRedis(freePort(), mkdtempSync(join(tmpdir(), "mmo-redis-")));
    // redis-server names itself by its address ("/usr/bin/redis-server 127.0.0.1:PORT"): the one on this port is the one to stop.
    redis.watchdog = cleanUpAfterThisProcess([
      ["pkill", "-KILL", "-f", `redis-server 127\\.0\\.0\\.1:${redis.port}( |$)`],
      ["rm", "-rf", redis.dir],
    ]);
    await redis.startServer();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server (again, empty) on the same port; resolves when it answers PING. */
  async startServer(): Promise<void> {
    const bin = Bun.which("redis-server") ?? "/usr/bin/redis-server";
    this.proc = Bun.spawn([bin, "--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", this.dir], {
      stdout: "ignore",
      stderr: "inherit",
    });
    const deadline = performance.now() + 10_000;
    for (;;) {
      const client = new RedisClient(this.url, { autoReconnect: false, connectionTimeout: 500 });
      try {
        if ((await client.send("PING", [])) === "PONG") return;
      } catch {
        if (performance.now() > deadline) throw new Error(`redis-server did not start on port ${this.port}`);
        await Bun.sleep(50);
      } finally {
        client.close();
      }
    }
  }

  /** Empties every key (between tests and benchmark runs). */
  async flush(): Promise<void> {
    const client = new RedisClient(this.url);
    try {
      await client.send("FLUSHALL", []);
    } finally {
      client.close();
    }
  }

  /** Kills the server at once (SIGKILL): what a crash looks like to its clients. */
  async kill(): Promise<void> {
    this.proc?.kill("SIGKILL");
    await this.proc?.exited;
    this.proc = undefined;
  }

  async destroy(): Promise<void> {
    this.watchdog?.cancel();
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
