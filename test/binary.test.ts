// The one executable: built, copied alone into an empty folder, started there, and stopped.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newChat } from "../src/packets/index.ts";
import { TestClient } from "./helpers.ts";

const root = join(import.meta.dir, "..");
let work: string;
let exe: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "mmo-binary-"));
  const built = join(work, "build", "mmo-server");
  const build = Bun.spawnSync([process.execPath, join(root, "scripts", "build.ts"), "--outfile", built], { cwd: root, stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
  const empty = join(work, "empty");
  exe = join(empty, "mmo-server");
  Bun.spawnSync(["mkdir", "-p", empty]);
  copyFileSync(built, exe);
  Bun.spawnSync(["chmod", "+x", exe]);
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Reads the child's stdout to its end (so the pipe never closes early) and resolves on a matching line. */
function waitForLine(stream: ReadableStream<Uint8Array>, pattern: RegExp, seen: string[]): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    void (async () => {
      const decoder = new TextDecoder();
      let buffered = "";
      for await (const chunk of stream) {
        buffered += decoder.decode(chunk);
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines) {
          seen.push(line);
          const m = line.match(pattern);
          if (m) resolve(m);
        }
      }
      reject(new Error(`no line matched ${pattern}; saw:\n${seen.join("\n")}`));
    })();
  });
}

test("the binary runs alone with --port 0, serves a client, and exits 0 on SIGTERM", async () => {
  const proc = Bun.spawn([exe, "--port", "0", "--host", "127.0.0.1"], { cwd: join(work, "empty"), stdout: "pipe", stderr: "pipe" });
  const seen: string[] = [];
  const [, port] = await waitForLine(proc.stdout, /Starting server on :(\d+)/, seen);
  const url = `ws://127.0.0.1:${port}/ws`;
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
