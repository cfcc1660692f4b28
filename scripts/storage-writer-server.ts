// A server process for bench:storage: Radius Rumble as the binary runs it, plus a steady load of
// storage writes made inside the server, as a game's rooms would make them: every 10 ms a batch of
// read-then-write-if-version updates of random accounts' objects. `/healthz` reports what was done.
// Usage: bun scripts/storage-writer-server.ts [server options] --writes-per-second N --accounts N
import { parseArgs } from "node:util";
import { parseCommandLine } from "../src/config.ts";
import { radiusRumble } from "../src/games/radius-rumble/index.ts";
import { createLogger } from "../src/log.ts";
import { defineGame } from "../src/rooms/game.ts";
import { seededRandom } from "../src/rooms/random.ts";
import { startServer } from "../src/server/start.ts";

const { values, tokens } = parseArgs({
  args: Bun.argv.slice(2),
  options: { "writes-per-second": { type: "string", default: "1000" }, accounts: { type: "string", default: "100000" } },
  strict: false,
  tokens: true,
});
const WRITES = Number(values["writes-per-second"]);
const ACCOUNTS = Number(values.accounts);
const ours = new Set(tokens.filter((t) => t.kind === "option" && (t.name === "writes-per-second" || t.name === "accounts")).flatMap((t) => (t.kind === "option" ? [t.index, t.index + 1] : [])));
const parsed = parseCommandLine(Bun.argv.slice(2).filter((_, i) => !ours.has(i)));
if (parsed.kind !== "run") throw new Error("expected server options");

const done = { written: 0, conflicts: 0, failed: 0, inFlight: 0 };
const writing = defineGame({
  ...radiusRumble,
  create(ctx) {
    const runtime = radiusRumble.create(ctx);
    const profiles = ctx.storage.collection<{ gold: number; visits: number }>("profile");
    const random = seededRandom(9);
    const update = async (owner: number) => {
      done.inFlight++;
      try {
        const found = await profiles.get("main", owner);
        const value = { gold: (found?.value.gold ?? 0) + 1, visits: (found?.value.visits ?? 0) + 1 };
        const result = await profiles.put("main", value, found ? { owner, ifVersion: found.version } : { owner, ifAbsent: true });
        if (result.ok) done.written++;
        else if (result.reason === "conflict") done.conflicts++;
        else done.failed++;
      } catch {
        done.failed++;
      } finally {
        done.inFlight--;
      }
    };
    return {
      ...runtime,
      start() {
        runtime.start?.();
        if (WRITES <= 0) return;
        const perBatch = WRITES / 100;
        let owed = 0;
        setInterval(() => {
          for (owed += perBatch; owed >= 1; owed--) void update(1 + Math.floor(random() * ACCOUNTS));
        }, 10);
      },
      health: () => ({ ...runtime.health?.(), storage: { ...done } }),
    };
  },
});

const log = createLogger(parsed.config.logLevel, parsed.config.logFormat);
const mmo = await startServer(parsed.config, log, writing);
process.on("SIGTERM", () => void mmo.shutdown().then(() => process.exit(0)));
log.announce(`Starting server on :${mmo.port}`);
