// The one executable: built, copied alone into an empty folder, started there, and stopped.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServerProcess } from "../src/testing/server-process.ts";
import { newChat } from "../src/packets/index.ts";
import { TestClient } from "./helpers.ts";

const root = join(import.meta.dir, "..");
let work: string;
let exe: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "mmo-binary-"));
  const built = join(work, "build", "mmo-server");
  const build = Bun.spawnSync([process.execPath, join(root, "scripts", "build.ts"), "--outfile", built], { cwd: root, stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
  const empty = join(work, "empty");
  exe = join(empty, "mmo-server");
  mkdirSync(empty, { recursive: true });
  copyFileSync(built, exe);
  chmodSync(exe, 0o755);
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

test("the binary runs alone with --port 0, serves a client, and exits 0 on SIGTERM", async () => {
  const { proc, url } = await startServerProcess([exe], [], join(work, "empty"));
  const [a, b] = await Promise.all([TestClient.connect(url), TestClient.connect(url)]);
  a!.send(newChat("from the binary"));
  expect((await b!.expect("chat")).value.msg).toBe("from the binary");

  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  const closed = await a!.closed;
  expect(closed.code).toBe(1001);
  expect((await b!.expect("disconnect")).value.reason).toBe("server shutting down");
}, 20_000);

test("a bad flag value gets a one-line error and exit code 2", () => {
  const run = Bun.spawnSync([exe, "--port", "99999"], { stderr: "pipe" });
  expect(run.exitCode).toBe(2);
  const err = run.stderr.toString().trim();
  expect(err.split("\n")).toHaveLength(1);
  expect(err).toContain("--port");
});

test("--version and --help", () => {
  expect(Bun.spawnSync([exe, "--version"]).stdout.toString()).toMatch(/^mmo-server \d+\.\d+\.\d+/);
  const help = Bun.spawnSync([exe, "--help"]).stdout.toString();
  for (const flag of ["--port", "--host", "--help", "--version"]) expect(help).toContain(flag);
});
