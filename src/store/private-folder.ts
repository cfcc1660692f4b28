// The data folder holds password hashes (db.sqlite) and the sessions a restart keeps: only the
// server's own user may read it. The folder is made 0700 and every file in it 0600, also when an
// older version left them readable by everyone.
import { chmodSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

export const PRIVATE_FOLDER_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Makes `dir` (when missing) and closes it and its files to other users; a file it cannot change is left as it is. */
export function privateFolder(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_FOLDER_MODE });
  chmodSync(dir, PRIVATE_FOLDER_MODE);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    try {
      chmodSync(join(dir, entry.name), PRIVATE_FILE_MODE);
    } catch {
      // Another user's file in the folder: not ours to change.
    }
  }
}
