// `mmo-server import-sqlite PATH`: carries the players of a SQLite database (ours, or the series' own
// db.sqlite) over to PostgreSQL: users, players and best scores, in one transaction. Password hashes
// are copied as they are, so bcrypt and argon2id passwords keep working. Ids are shifted past those
// the PostgreSQL database already has, which keeps the board's order among equal scores (older
// accounts first). A second run into the same database is refused: its names are already there.
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import type { PostgresStore } from "./postgres.ts";

export class ImportRefusedError extends Error {}

export interface ImportResult {
  users: number;
  players: number;
}

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
}

interface PlayerRow {
  id: number;
  user_id: number;
  name: string;
  best_score: number;
  color: number;
}

function readSqlite(path: string): { users: UserRow[]; players: PlayerRow[] } {
  if (!existsSync(path)) throw new ImportRefusedError(`there is no file ${path}`);
  let db: Database;
  try {
    db = new Database(path, { readonly: true, strict: true });
  } catch (err) {
    throw new ImportRefusedError(`cannot open ${path} as an SQLite database: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return {
      users: db.query("SELECT id, username, password_hash FROM users ORDER BY id").all() as UserRow[],
      players: db.query("SELECT id, user_id, name, best_score, color FROM players ORDER BY id").all() as PlayerRow[],
    };
  } catch (err) {
    throw new ImportRefusedError(`${path} has no users and players tables of the series: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    db.close();
  }
}

/** Copies the accounts of the SQLite file at `path` into the store's database, all or nothing. */
export async function importSqlite(path: string, store: PostgresStore): Promise<ImportResult> {
  const { users, players } = readSqlite(path);
  return store.sql.begin(async (tx) => {
    // Registrations wait for the few seconds this takes, so that the ids below stay free.
    await tx`LOCK TABLE users, players IN EXCLUSIVE MODE`;
    const names = users.map((u) => u.username);
    const taken = await tx`SELECT username FROM users WHERE username = ANY(${tx.array(names, "TEXT")}) ORDER BY username LIMIT 3`;
    if (taken.length > 0) {
      const examples = taken.map((r: { username: string }) => `"${r.username}"`).join(", ");
      throw new ImportRefusedError(`users of ${path} are already in the database (${examples}): it was imported before, or has its own users of those names; nothing was imported`);
    }
    const [{ userBase, playerBase }] = await tx`
      SELECT coalesce((SELECT max(id) FROM users), 0)::bigint AS "userBase", coalesce((SELECT max(id) FROM players), 0)::bigint AS "playerBase"`;
    const userShift = Number(userBase);
    const playerShift = Number(playerBase);
    await tx`
      INSERT INTO users (id, username, password_hash)
      SELECT * FROM unnest(${tx.array(users.map((u) => u.id + userShift), "INT8")}::bigint[],
                           ${tx.array(names, "TEXT")}::text[],
                           ${tx.array(users.map((u) => u.password_hash), "TEXT")}::text[])`;
    await tx`
      INSERT INTO players (id, user_id, name, best_score, color)
      SELECT * FROM unnest(${tx.array(players.map((p) => p.id + playerShift), "INT8")}::bigint[],
                           ${tx.array(players.map((p) => p.user_id + userShift), "INT8")}::bigint[],
                           ${tx.array(players.map((p) => p.name), "TEXT")}::text[],
                           ${tx.array(players.map((p) => p.best_score), "INT8")}::bigint[],
                           ${tx.array(players.map((p) => p.color), "INT4")}::integer[])`;
    // New registrations continue after the imported ids.
    await tx`SELECT setval(pg_get_serial_sequence('users', 'id'), max(id)) FROM users HAVING count(*) > 0`;
    await tx`SELECT setval(pg_get_serial_sequence('players', 'id'), max(id)) FROM players HAVING count(*) > 0`;
    return { users: users.length, players: players.length };
  });
}
