// Which store a server uses: PostgreSQL when a database URL is given, else SQLite in the data folder.
import type { Logger } from "../log.ts";
import { PostgresStore } from "./postgres.ts";
import { SqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

export interface StoreConfig {
  dataDir: string;
  databaseUrl: string;
}

/**
 * Opens and migrates the configured store; throws StoreOpenError naming the file or database. A
 * SQLite store locks its data folder, unless `exclusive` is false (sharing it on purpose).
 */
export async function openStore(config: StoreConfig, log: Logger, { exclusive = true } = {}): Promise<Store> {
  return config.databaseUrl ? PostgresStore.open(config.databaseUrl, log) : SqliteStore.open(config.dataDir, { exclusive });
}
