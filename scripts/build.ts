// Compiles the server into one executable, ./mmo-server, that runs with no other file present.
// Usage: bun scripts/build.ts [--outfile PATH]   (default ./mmo-server)
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const root = join(import.meta.dir, "..");
const { values } = parseArgs({ args: Bun.argv.slice(2), options: { outfile: { type: "string" } } });
const outfile = resolve(values.outfile ?? join(root, "mmo-server"));

const result = await Bun.build({
  entrypoints: [join(root, "src", "main.ts")],
  compile: { outfile },
  minify: true,
  sourcemap: "linked",
  target: "bun",
  // Compiled ahead to JavaScriptCore's bytecode, embedded: the start skips parsing the whole bundle.
  bytecode: true,
  format: "esm",
});
if (!result.success) {
  for (const message of result.logs) console.error(message);
  process.exit(1);
}
const { size } = Bun.file(outfile);
console.log(`built ${outfile} (${(size / 1024 / 1024).toFixed(1)} MiB)`);
