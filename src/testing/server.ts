// The testkit's server: a real server of a game, in this process, on an ephemeral loopback port, with
// its database in a fresh temporary folder and its log lines in memory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig, type Config } from "../config.ts";
import { Logger, type LogLevel } from "../log.ts";
import type { Game } from "../rooms/game.ts";
import { startServer, type MmoServer, type ServerParts } from "../server/start.ts";

/** Collects log lines in memory, so tests can read what the server said. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger: Logger;
  constructor(level: LogLevel = "debug") {
    this.logger = new Logger({ level, format: "text", write: (line) => this.lines.push(line) });
  }
  has(pattern: RegExp | string): boolean {
    return this.lines.some((l) => (typeof pattern === "string" ? l.includes(pattern) : pattern.test(l)));
  }
}

export interface TestServer extends MmoServer {
  url: string;
  logs: LogCapture;
  config: Config;
  /** The user id of the account logged in on the test client's connection, if any. */
  userIdOf(client: { id: number }): number | undefined;
  stop(): Promise<void>;
}

/**
 * A server of `game` on an ephemeral loopback port; `overrides` are options as in src/config.ts
 * (with `databaseUrl`, its store is that PostgreSQL database); `parts`: a clock for the leaderboards.
 */
export async function startTestServer(game: Game, overrides: Partial<Config> = {}, parts: ServerParts = {}): Promise<TestServer> {
  const logs = new LogCapture();
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), "mmo-test-"));
  const config = defaultConfig({ port: 0, host: "127.0.0.1", dataDir, ...overrides });
  const mmo = await startServer(config, logs.logger, game, parts);
  return {
    ...mmo,
    url: `ws://127.0.0.1:${mmo.port}/ws`,
    logs,
    config,
    userIdOf: (client) => mmo.hub.clients.get(client.id)?.account?.userId,
    async stop() {
      await mmo.shutdown(1000);
      if (overrides.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
