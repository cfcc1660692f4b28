// `bun run release`: the server for the systems Godot developers work on, cross-compiled by Bun
// (`--target`), into dist/ with their SHA-256 sums in dist/SHA256SUMS.
// Usage: bun scripts/release.ts [--out DIR] [--only TARGET,...]
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pkg from "../package.json" with { type: "json" };

const root = join(import.meta.dir, "..");
const { values } = parseArgs({ args: Bun.argv.slice(2), options: { out: { type: "string" }, only: { type: "string" } } });
const out = resolve(values.out ?? join(root, "dist"));

/** Bun's target, and the file a user downloads for it. */
export const TARGETS = [
  { target: "bun-linux-x64", file: `mmo-server-${pkg.version}-linux-x64` },
  { target: "bun-linux-arm64", file: `mmo-server-${pkg.version}-linux-arm64` },
  { target: "bun-darwin-x64", file: `mmo-server-${pkg.version}-macos-x64` },
  { target: "bun-darwin-arm64", file: `mmo-server-${pkg.version}-macos-arm64` },
  { target: "bun-windows-x64", file: `mmo-server-${pkg.version}-windows-x64.exe` },
] as const;

const only = values.only?.split(",");
mkdirSync(out, { recursive: true });
const sums: string[] = [];
for (const { target, file } of TARGETS) {
  if (only && !only.includes(target)) continue;
  const outfile = join(out, file);
  const started = performance.now();
  const result = await Bun.build({
    entrypoints: [join(root, "src", "main.ts")],
    compile: { target, outfile },
    minify: true,
    target: "bun",
  });
  if (!result.success) {
    for (const message of result.logs) console.error(message);
    console.error(`release: ${target} failed`);
    process.exit(1);
  }
  const bytes = readFileSync(outfile);
  sums.push(`${createHash("sha256").update(bytes).digest("hex")}  ${file}`);
  console.log(`${file}: ${(bytes.length / 1024 / 1024).toFixed(1)} MiB (${target}, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
writeFileSync(join(out, "SHA256SUMS"), `${sums.join("\n")}\n`);
console.log(`release: ${sums.length} binaries and SHA256SUMS in ${out}`);
