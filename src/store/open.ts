// Which store a server uses: PostgreSQL when a database URL is given, else SQLite in the data folder.
import { errorText, type Logger } from "../log.ts";
import { PostgresStore } from "./postgres.ts";
import { RankedStore } from "./ranked.ts";
import { SqliteStore } from "./sqlite.ts";
import { StoreOpenError } from "./store.ts";

export interface StoreConfig {
  dataDir: string;
  databaseUrl: string;
}

/**
 * Opens and migrates the configured store; throws StoreOpenError naming the file or database. A
 * SQLite store locks its data folder, unless `exclusive` is false (sharing it on purpose).
 */
export async function openStore(config: StoreConfig, log: Logger, { exclusive = true } = {}): Promise<RankedStore> {
  const backend = config.databaseUrl ? await PostgresStore.open(config.databaseUrl, log) : SqliteStore.open(config.dataDir, log, { exclusive });
  try {
    return await RankedStore.over(backend);
  } catch (err) {
    await backend.close();
    throw new StoreOpenError(`cannot read the players of ${backend.description}: ${errorText(err)}`);
  }
}
