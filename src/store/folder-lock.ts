// One server per data folder: a lock file holding the process id. A second server on the same
// folder refuses to start, naming the folder and the process that holds it; a lock left by a server
// that died is taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { StoreOpenError } from "./store.ts";

export const LOCK_FILE = "mmo-server.lock";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class FolderLock {
  private constructor(readonly path: string) {}

  /** Takes the folder's lock; throws StoreOpenError when a live process holds it. */
  static acquire(dir: string): FolderLock {
    const path = join(resolve(dir), LOCK_FILE);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, "wx", 0o644);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return new FolderLock(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      let holder = NaN;
      try {
        holder = Number.parseInt(readFileSync(path, "utf8"), 10);
      } catch {
        continue; // removed meanwhile: try again
      }
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new StoreOpenError(
          `the data folder ${resolve(dir)} is in use by another mmo-server (process ${holder}): stop it, or give this server another --data-dir (if no such server runs, delete ${path})`,
        );
      }
      rmSync(path, { force: true }); // left by a server that is gone
    }
    throw new StoreOpenError(`cannot lock the data folder ${resolve(dir)}: ${path} keeps changing`);
  }

  release(): void {
    try {
      if (Number.parseInt(readFileSync(this.path, "utf8"), 10) === process.pid) rmSync(this.path, { force: true });
    } catch {
      // already gone
    }
  }
}
