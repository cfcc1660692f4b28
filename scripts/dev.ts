// `bun run dev [-- options]`: the server from source, started again whenever a file under src/
// changes. The old process gets SIGTERM, which keeps the game (with session resume on: rooms and
// sessions saved to the data folder), and the new one restores it, so players who asked for a resume
// token resume where they were: change a rule in your room, and the players stay.
// MMO_DEV_WATCH names another folder to watch (the tests use one of their own).
import { watch } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const watched = process.env.MMO_DEV_WATCH || join(root, "src");
const command = [process.execPath, join(root, "src", "main.ts"), ...Bun.argv.slice(2)];
const DEBOUNCE_MS = 150;

let child = Bun.spawn(command, { stdout: "inherit", stderr: "inherit" });
let restarting: Promise<void> | undefined;
let pending: Timer | undefined;
let stopping = false;

async function restart(why: string): Promise<void> {
  console.error(`dev: ${why}; restarting the server`);
  child.kill("SIGTERM");
  await child.exited;
  if (stopping) return;
  child = Bun.spawn(command, { stdout: "inherit", stderr: "inherit" });
}

watch(watched, { recursive: true }, (_event, file) => {
  clearTimeout(pending);
  pending = setTimeout(() => {
    restarting = (restarting ?? Promise.resolve()).then(() => restart(`${file ?? "a file"} changed`));
  }, DEBOUNCE_MS);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    stopping = true;
    child.kill("SIGTERM");
    process.exit((await child.exited) ?? 0);
  });
}
console.error(`dev: watching ${watched}`);
