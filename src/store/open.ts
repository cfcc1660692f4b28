// Which store a server uses: PostgreSQL when a database URL is given, else SQLite in the data folder.
import { OPTIONS } from "../config.ts";
import { errorText, type Logger } from "../log.ts";
import { PostgresStore } from "./postgres.ts";
import { RankedStore } from "./ranked.ts";
import { SqliteStore } from "./sqlite.ts";
import { StoreOpenError } from "./store.ts";
import type { StorageLimits } from "./objects.ts";

const STORAGE_DEFAULTS: StorageLimits = {
  storageMaxValueBytes: OPTIONS.storageMaxValueBytes.default,
  storageMaxObjects: OPTIONS.storageMaxObjects.default,
  storageMaxBytes: OPTIONS.storageMaxBytes.default,
};

function definedOf(config: Partial<StorageLimits>): Partial<StorageLimits> {
  return Object.fromEntries(Object.entries(config).filter(([key, value]) => key in STORAGE_DEFAULTS && value !== undefined));
}

export interface StoreConfig extends Partial<StorageLimits> {
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
    return await RankedStore.over(backend, { ...STORAGE_DEFAULTS, ...definedOf(config) });
  } catch (err) {
    await backend.close();
    throw new StoreOpenError(`cannot read the players of ${backend.description}: ${errorText(err)}`);
  }
}
