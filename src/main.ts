// The command line: options → config → server; SIGINT and SIGTERM shut it down cleanly.
import pkg from "../package.json" with { type: "json" };
import { ConfigError, describeConfig, parseCommandLine, usage } from "./config.ts";
import { createLogger, errorText, stdout } from "./log.ts";
import { GAMES } from "./games/index.ts";
import { startServer } from "./server/start.ts";
import { importSqlite } from "./store/import-sqlite.ts";
import { PostgresStore } from "./store/postgres.ts";
import { StoreOpenError } from "./store/store.ts";
import { ClusterStartError } from "./cluster/start-error.ts";

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseCommandLine(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`mmo-server: ${err.message} (see --help)`);
    process.exit(2);
  }
  if (parsed.kind === "help") {
    console.log(usage(GAMES));
    return;
  }
  if (parsed.kind === "version") {
    console.log(`mmo-server ${pkg.version} (bun ${Bun.version})`);
    return;
  }
  if (parsed.kind === "godot") return writeGodotKit(parsed.project);

  const { config } = parsed;
  const game = GAMES.find((g) => g.name === config.game);
  if (!game) {
    console.error(`mmo-server: no game named "${config.game}"; the games are ${GAMES.map((g) => g.name).join(", ")} (see --help)`);
    process.exit(2);
  }
  if (parsed.printConfig) {
    console.log(describeConfig(config, parsed.sources));
    return;
  }
  if (parsed.importFrom !== undefined) return importAccounts(parsed.importFrom, config.databaseUrl);
  const log = createLogger(config.logLevel, config.logFormat);
  for (const warning of parsed.warnings) log.warn(warning);
  // A bug in one handler must not take every player down with it.
  process.on("unhandledRejection", (reason) => log.error(`Unhandled rejection: ${errorText(reason)}`));
  process.on("uncaughtException", (err) => log.error(`Uncaught exception: ${err.stack ?? err.message}`));
  let mmo;
  try {
    mmo = await startServer(config, log, game);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StoreOpenError || err instanceof ClusterStartError) {
      console.error(`mmo-server: ${err.message}`);
      process.exit(2);
    }
    console.error(`mmo-server: cannot start on ${config.host}:${config.port}: ${errorText(err)}`);
    process.exit(1);
  }
  const stop = (signal: string) => {
    log.info(`Received ${signal}`);
    void mmo
      .shutdown()
      .then(() => stdout.drained())
      .then(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  // Announced once the signals are handled: whoever waits for this line may stop the server at once.
  log.announce(`Starting server on :${mmo.port}`);
  log.announce("Awaiting client registrations");
}

/** `godot PATH`: writes the client kit into the project; exit 2 when PATH is not a Godot project. */
async function writeGodotKit(project: string): Promise<void> {
  const { KitError, writeKit, KIT_DIR } = await import("./godot/kit.ts");
  let written: string[];
  try {
    written = writeKit(project);
  } catch (err) {
    console.error(`mmo-server: godot: ${errorText(err)}`);
    process.exit(err instanceof KitError ? 2 : 1);
  }
  console.log(`Wrote the mmo-server client kit into ${project}:`);
  for (const file of written) console.log(`  ${file}`);
  console.log(`
To use it:
  1. In Godot, Project > Project Settings > Globals > Autoload: add res://${KIT_DIR}/mmo_client.gd, named Mmo.
  2. Connect: Mmo.connect_to_url("ws://localhost:8080/ws"), then use its signals (Mmo.chat_received, ...)
     and send helpers (Mmo.send_chat(...)).
  3. Or run res://${KIT_DIR}/example/example.tscn (F6) against ./mmo-server to see it work.
Run this again whenever packets.proto changes: the codecs follow the server that wrote them.`);
}

/** `import-sqlite PATH`: exit 0 when imported, 1 when refused (nothing imported), 2 when the database cannot be used. */
async function importAccounts(path: string, databaseUrl: string): Promise<void> {
  const log = createLogger("warn", "text");
  let store: PostgresStore;
  try {
    store = await PostgresStore.open(databaseUrl, log);
  } catch (err) {
    console.error(`mmo-server: ${errorText(err)}`);
    process.exit(2);
  }
  try {
    const { users, players, records, objects } = await importSqlite(path, store);
    console.log(`Imported ${users} user(s) and ${players} player(s), ${records} leaderboard record(s) and ${objects} storage object(s) from ${path} into ${store.description}`);
  } catch (err) {
    console.error(`mmo-server: import-sqlite: ${errorText(err)}`);
    process.exitCode = 1;
  } finally {
    await store.close();
  }
}

await main();
