// A benchmark's baseline in the same run: another commit checked out beside this one (a git worktree
// sharing this checkout's node_modules), to measure a change against the code before it on the same
// machine at the same hour, and removed afterwards.
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./server-process.ts";

export interface Baseline {
  /** The checkout's root. */
  readonly dir: string;
  /** Removes the checkout. */
  remove(): void;
}

/** Checks `rev` out beside this checkout; throws when git cannot. */
export function checkoutBaseline(rev: string): Baseline {
  const dir = mkdtempSync(join(tmpdir(), "mmo-bench-baseline-"));
  const added = Bun.spawnSync(["git", "worktree", "add", "--detach", dir, rev], { cwd: ROOT, stderr: "pipe" });
  if (added.exitCode !== 0) throw new Error(`git worktree add ${rev}: ${added.stderr.toString()}`);
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return { dir, remove: () => void Bun.spawnSync(["git", "worktree", "remove", "--force", dir], { cwd: ROOT }) };
}

/** Builds the checkout's executable (its own `scripts/build.ts`) and returns its path; throws when the build fails. */
export function buildAt(dir: string): string {
  if (Bun.spawnSync([process.execPath, join(dir, "scripts", "build.ts")], { cwd: dir, stdout: "inherit", stderr: "inherit" }).exitCode !== 0) throw new Error(`the build in ${dir} failed`);
  return join(dir, "mmo-server");
}
