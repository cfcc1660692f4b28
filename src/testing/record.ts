// What every benchmark prints last: one JSON line with its figures, the command that measured them,
// the commit, the date and the machine, so that any row of a table in docs/performance.md can be
// measured again and compared with the run it came from.
import { cpus } from "node:os";
import { join } from "node:path";

/** The commit the benchmark ran at (with "+" when the work tree had changes), or "unknown" outside git. */
export function gitCommit(): string {
  const root = join(import.meta.dir, "..", "..");
  const head = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: root });
  if (head.exitCode !== 0) return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { cwd: root }).stdout.toString().trim() !== "";
  return `${head.stdout.toString().trim()}${dirty ? "+" : ""}`;
}

/** The machine, as the tables' headers name it. */
export function machine(): { cpus: number; model: string; bun: string } {
  return { cpus: cpus().length, model: cpus()[0]?.model ?? "cpu", bun: Bun.version };
}

/** Prints the record line: `bench` is the package script's name (bench:players). */
export function printRecord(bench: string, figures: unknown): void {
  const args = Bun.argv.slice(2).join(" ");
  console.log(JSON.stringify({ bench, command: `bun run ${bench}${args ? ` -- ${args}` : ""}`, commit: gitCommit(), date: new Date().toISOString(), machine: machine(), figures }));
}
