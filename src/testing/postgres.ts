// The testkit's PostgreSQL: a real server from the machine's PostgreSQL installation (Debian's
// `postgresql` package), started in a temporary folder on a free loopback port and stopped at the end.
// When the tests run as root, initdb and pg_ctl run as the `postgres` user, as PostgreSQL requires.
import { SQL } from "bun";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanUpAfterThisProcess, type Watchdog } from "./watchdog.ts";

const USER = "mmo";
const PASSWORD = "test-secret";

/** The folder of initdb and pg_ctl, or undefined when PostgreSQL is not installed. */
export function findPostgresBin(): string | undefined {
  if (process.env.MMO_PG_BIN) return process.env.MMO_PG_BIN;
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], "bin");
  }
  const onPath = Bun.which("initdb");
  return onPath ? join(onPath, "..") : undefined;
}

/** Why the PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresUnavailable(): string | undefined {
  return findPostgresBin() ? undefined : "PostgreSQL is not installed (initdb not found; apt-get install postgresql)";
}

/** A loopback port that nothing listens on (it was free a moment ago). */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

export class TestPostgres {
  private databases = 0;
  /** Stops the server and removes its folder if this process ends without destroy(). */
  private watchdog: Watchdog | undefined;

  private constructor(
    private readonly bin: string,
    readonly dir: string,
    readonly port: number,
    private readonly asUser: string[],
  ) {}

  /** initdb in a fresh temporary folder, then start on a free port; password authentication over TCP. */
  static async start(): Promise<TestPostgres> {
    const bin = findPostgresBin();
    if (!bin) throw new Error(postgresUnavailable());
    const dir = mkdtempSync(join(tmpdir(), "mmo-pg-"));
    const asUser = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
    const pwfile = join(dir, "pwfile");
    writeFileSync(pwfile, `${PASSWORD}\n`);
    if (asUser.length > 0) {
      const { uid, gid } = postgresIds();
      chownSync(dir, uid, gid);
      chownSync(pwfile, uid, gid);
    }
    chmodSync(dir, 0o700);
    const data = join(dir, "data");
    run([...asUser, join(bin, "initdb"), "-D", data, "-U", USER, `--pwfile=${pwfile}`, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]);
    const pg = new TestPostgres(bin, dir, freePort(), asUser);
    pg.watchdog = cleanUpAfterThisProcess([
      [...asUser, join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"],
      ["rm", "-rf", dir],
    ]);
    pg.startServer();
    return pg;
  }

  /** The URL of the cluster's `postgres` database, with the password. */
  url(database = "postgres"): string {
    return `postgres://${USER}:${PASSWORD}@127.0.0.1:${this.port}/${database}`;
  }

  /** A fresh, empty database of its own, for one test server; returns its URL. */
  async createDatabase(): Promise<string> {
    const name = `mmo_test_${++this.databases}`;
    const admin = new SQL(this.url(), { max: 1 });
    try {
      await admin.unsafe(`CREATE DATABASE ${name}`);
    } finally {
      await admin.close();
    }
    return this.url(name);
  }

  startServer(): void {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    run([...this.asUser, join(this.bin, "pg_ctl"), "-D", join(this.dir, "data"), "-l", join(this.dir, "log"), "-o", options, "-w", "-t", "30", "start"]);
  }

  /** Stops the server at once (`-m immediate`: as a crash would), keeping its data. */
  stopServer(mode: "fast" | "immediate" = "fast"): void {
    run([...this.asUser, join(this.bin, "pg_ctl"), "-D", join(this.dir, "data"), "-m", mode, "-w", "stop"]);
  }

  /** Stops the server and removes its folder. */
  destroy(): void {
    this.watchdog?.cancel();
    try {
      this.stopServer();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function postgresIds(): { uid: number; gid: number } {
  const out = Bun.spawnSync(["id", "-u", "postgres"]).stdout.toString().trim();
  const gid = Bun.spawnSync(["id", "-g", "postgres"]).stdout.toString().trim();
  if (!out) throw new Error("running as root, but there is no postgres user to run PostgreSQL as");
  return { uid: Number(out), gid: Number(gid) };
}

function run(argv: string[]): void {
  const result = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    throw new Error(`${argv.join(" ")} failed (${result.exitCode}): ${result.stderr.toString().trim() || result.stdout.toString().trim()}`);
  }
}
