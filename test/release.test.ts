// `bun run release`: five binaries for the systems Godot developers work on. The one for the machine
// running the test runs here; every one is checked to be an executable of the right format and CPU,
// and every sum holds.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { startServerProcess } from "../src/testing/server-process.ts";
import { TestClient } from "./helpers.ts";

const out = mkdtempSync(join(tmpdir(), "mmo-release-"));
const file = (name: string) => join(out, `mmo-server-${pkg.version}-${name}`);
let log = "";
beforeAll(() => {
  const result = Bun.spawnSync([process.execPath, join(import.meta.dir, "..", "scripts", "release.ts"), "--out", out], { stdout: "pipe", stderr: "pipe" });
  log = result.stdout.toString() + result.stderr.toString();
  if (result.exitCode !== 0) throw new Error(`bun run release failed:\n${log}`);
}, 300_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** What a header says the file is: its format and CPU. */
function formatOf(bytes: Buffer): string {
  if (bytes.readUInt32BE(0) === 0x7f454c46) return `ELF ${({ 0x3e: "x64", 0xb7: "arm64" } as Record<number, string>)[bytes.readUInt16LE(18)] ?? "?"}`;
  if (bytes.readUInt32LE(0) === 0xfeedfacf) return `Mach-O ${({ 0x01000007: "x64", 0x0100000c: "arm64" } as Record<number, string>)[bytes.readUInt32LE(4)] ?? "?"}`;
  if (bytes.toString("latin1", 0, 2) === "MZ") {
    const pe = bytes.readUInt32LE(0x3c);
    if (bytes.toString("latin1", pe, pe + 4) === "PE\0\0") return `PE ${bytes.readUInt16LE(pe + 4) === 0x8664 ? "x64" : "?"}`;
  }
  return "unknown";
}

test("five binaries of the right format and CPU, each tens of MB, with SHA-256 sums that hold", () => {
  const expected: Record<string, string> = { "linux-x64": "ELF x64", "linux-arm64": "ELF arm64", "macos-x64": "Mach-O x64", "macos-arm64": "Mach-O arm64", "windows-x64.exe": "PE x64" };
  const sums = new Map(
    readFileSync(join(out, "SHA256SUMS"), "utf8")
      .trim()
      .split("\n")
      .map((line) => [line.split("  ")[1]!, line.split("  ")[0]!]),
  );
  for (const [name, format] of Object.entries(expected)) {
    const bytes = readFileSync(file(name));
    expect(`${name}: ${formatOf(bytes)}`).toBe(`${name}: ${format}`);
    expect(bytes.length).toBeGreaterThan(40 * 1024 * 1024);
    expect(sums.get(`mmo-server-${pkg.version}-${name}`)).toBe(createHash("sha256").update(bytes).digest("hex"));
  }
  console.log(log.trim());
});

/** The release for the machine running the test. */
const HERE = ({ "linux-x64": "linux-x64", "linux-arm64": "linux-arm64", "darwin-x64": "macos-x64", "darwin-arm64": "macos-arm64", "win32-x64": "windows-x64.exe" } as Record<string, string>)[`${process.platform}-${process.arch}`];

test.skipIf(HERE === undefined)(`the build for this machine (${HERE ?? `none for ${process.platform}-${process.arch}`}) runs here: its version, and a server a client connects to`, async () => {
  const version = Bun.spawnSync([file(HERE!), "--version"], { stdout: "pipe" });
  expect(version.stdout.toString()).toContain(`mmo-server ${pkg.version}`);
  const dir = mkdtempSync(join(tmpdir(), "mmo-release-run-"));
  try {
    const started = performance.now();
    const srv = await startServerProcess([file(HERE!)], ["--data-dir", dir]);
    const listening = performance.now() - started;
    const c = await TestClient.connect(srv.url);
    expect(c.id).toBe(1);
    await c.close();
    expect(await srv.stop()).toBe(0);
    console.log(`${HERE} release binary: listening ${listening.toFixed(0)} ms after spawn`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
