// The embedded store: accounts, games' objects and leaderboard records in one SQLite file (bun:sqlite)
// in the data folder; the accounts in the series' own tables, so that its db.sqlite opens as it is.
import { Database, type Statement } from "bun:sqlite";
import { join, resolve } from "node:path";
import { errorText } from "../log.ts";
import { FolderLock } from "./folder-lock.ts";
import { privateFolder } from "./private-folder.ts";
import { SqliteBoards } from "./sqlite-boards.ts";
import { SqliteObjects } from "./sqlite-objects.ts";
import { SqliteSocial } from "./sqlite-social.ts";
import { migrate, SCHEMA_VERSION } from "./sqlite-schema.ts";
import { IdentityExistsError, StoreOpenError, UserExistsError, type Account, type AuditEntry, type Ban, type Identity, type PlayerRecord, type Sanction, type Store } from "./store.ts";

export const DB_FILE = "db.sqlite";

/** How long a server waits for another sharing the file (its busy timeout, and the switch to WAL). */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Switches the file to WAL. The switch needs the file to itself, and SQLite answers SQLITE_BUSY at
 * once, without waiting for the busy timeout, when another connection is opening it at that moment
 * (seen with 6 servers starting at once): so it is tried again for up to the busy timeout.
 */
function toWal(db: Database): void {
  const until = performance.now() + BUSY_TIMEOUT_MS;
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    try {
      const { journal_mode } = db.query("PRAGMA journal_mode = WAL").get() as { journal_mode: string };
      if (journal_mode.toLowerCase() !== "wal") throw new Error(`the file stays in journal mode ${journal_mode}, not WAL`);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== "SQLITE_BUSY" || performance.now() > until) throw err;
      Bun.sleepSync(pause);
    }
  }
}

export class SqliteStore implements Store {
  readonly description: string;
  readonly objects: SqliteObjects;
  readonly boards: SqliteBoards;
  readonly social: SqliteSocial;
  private readonly insertUser: Statement;
  private readonly insertPlayer: Statement;
  private readonly selectAccount: Statement<Account, [string]>;
  private readonly insertIdentity: Statement;
  private readonly selectIdentity: Statement<Account, [string, string]>;

  private constructor(
    private readonly db: Database,
    readonly file: string,
    private readonly lock: FolderLock | undefined,
  ) {
    this.description = `SQLite ${file}`;
    this.objects = new SqliteObjects(db);
    this.boards = new SqliteBoards(db);
    this.social = new SqliteSocial(db);
    this.insertUser = db.query("INSERT INTO users (username, password_hash) VALUES (?, ?)");
    this.insertPlayer = db.query("INSERT INTO players (user_id, name, best_score, color) VALUES (?, ?, 0, ?)");
    this.selectAccount = db.query(
      `SELECT u.id AS userId, u.password_hash AS passwordHash, p.id AS playerId, p.name AS name,
              p.color AS color
       FROM users u JOIN players p ON p.user_id = u.id
       WHERE u.username = ? ORDER BY p.id LIMIT 1`,
    );
    this.insertIdentity = db.query("INSERT INTO identities (provider, subject, user_id, created_at) VALUES (?, ?, ?, ?)");
    this.selectIdentity = db.query(
      `SELECT u.id AS userId, u.password_hash AS passwordHash, p.id AS playerId, p.name AS name,
              p.color AS color
       FROM identities i JOIN users u ON u.id = i.user_id JOIN players p ON p.user_id = u.id
       WHERE i.provider = ? AND i.subject = ? ORDER BY p.id LIMIT 1`,
    );
  }

  /**
   * Opens (creating when missing) `db.sqlite` in `dataDir`, in WAL mode, migrated to the current
   * schema, holding the folder's lock until closed (unless `exclusive` is false: a store that shares
   * the folder with another on purpose).
   */
  static open(dataDir: string, { exclusive = true } = {}): SqliteStore {
    const file = resolve(dataDir, DB_FILE);
    let db: Database | undefined;
    let lock: FolderLock | undefined;
    try {
      privateFolder(dataDir);
      if (exclusive) lock = FolderLock.acquire(dataDir);
      db = new Database(join(dataDir, DB_FILE), { create: true, strict: true });
      // First, so that servers sharing the file on purpose wait for each other.
      db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      toWal(db);
      db.run("PRAGMA synchronous = NORMAL");
      db.run("PRAGMA foreign_keys = ON");
      migrate(db);
      // SQLite made the database, its -wal and -shm files with the process's umask: close them too.
      privateFolder(dataDir);
      return new SqliteStore(db, file, lock);
    } catch (err) {
      db?.close();
      lock?.release();
      if (err instanceof StoreOpenError) throw err;
      throw new StoreOpenError(`cannot open the database ${file}: ${errorText(err)} (check that the folder of --data-dir is writable and the file is an SQLite database)`);
    }
  }

  get schemaVersion(): number {
    return SCHEMA_VERSION;
  }

  async createAccount(username: string, passwordHash: string, color: number): Promise<Account> {
    return this.db.transaction(() => {
      let userId: number;
      try {
        userId = Number(this.insertUser.run(username.toLowerCase(), passwordHash).lastInsertRowid);
      } catch (err) {
        if (err instanceof Error && /UNIQUE constraint failed/.test(err.message)) throw new UserExistsError(username);
        throw err;
      }
      const playerId = Number(this.insertPlayer.run(userId, username, color).lastInsertRowid);
      return { userId, passwordHash, playerId, name: username, color };
    })();
  }

  async findAccount(username: string): Promise<Account | undefined> {
    return this.selectAccount.get(username.toLowerCase()) ?? undefined;
  }

  async findIdentity({ provider, subject }: Identity): Promise<Account | undefined> {
    return this.selectIdentity.get(provider, subject) ?? undefined;
  }

  async createIdentityAccount(identity: Identity, username: string, displayName: string, color: number): Promise<Account> {
    return this.db.transaction(() => {
      let userId: number;
      try {
        userId = Number(this.insertUser.run(username.toLowerCase(), "").lastInsertRowid);
      } catch (err) {
        if (err instanceof Error && /UNIQUE constraint failed/.test(err.message)) throw new UserExistsError(username);
        throw err;
      }
      try {
        this.insertIdentity.run(identity.provider, identity.subject, userId, Date.now());
      } catch (err) {
        if (err instanceof Error && /UNIQUE constraint failed/.test(err.message)) throw new IdentityExistsError(`${identity.provider} ${identity.subject}`);
        throw err;
      }
      const playerId = Number(this.insertPlayer.run(userId, displayName, color).lastInsertRowid);
      return { userId, passwordHash: "", playerId, name: displayName, color };
    })();
  }

  async setCredentials(userId: number, username: string, passwordHash: string): Promise<boolean> {
    try {
      return this.db.query("UPDATE users SET username = ?, password_hash = ? WHERE id = ? AND password_hash = ''").run(username.toLowerCase(), passwordHash, userId).changes === 1;
    } catch (err) {
      if (err instanceof Error && /UNIQUE constraint failed/.test(err.message)) throw new UserExistsError(username);
      throw err;
    }
  }

  async findPlayers({ id, name, device }: { id?: number; name?: string; device?: string }): Promise<PlayerRecord[]> {
    const where = id !== undefined ? "u.id = ?" : name !== undefined ? "(u.username = lower(?1) OR lower(p.name) = lower(?1))" : "u.id IN (SELECT user_id FROM identities WHERE provider = 'device' AND subject = ?)";
    const rows = this.db
      .query(
        `SELECT u.id AS userId, u.username AS username, p.name AS name, p.color AS color,
                (SELECT group_concat(subject, char(10)) FROM identities i WHERE i.user_id = u.id AND i.provider = 'device') AS devices
         FROM users u JOIN players p ON p.id = (SELECT min(id) FROM players WHERE user_id = u.id)
         WHERE ${where} ORDER BY u.id LIMIT 50`,
      )
      .all(id ?? name ?? device ?? "") as (Omit<PlayerRecord, "devices"> & { devices: string | null })[];
    return rows.map((r) => ({ ...r, devices: r.devices ? r.devices.split("\n") : [] }));
  }

  async banOf(userId: number, kind: Sanction = "bans"): Promise<Ban | undefined> {
    return (this.db.query(`SELECT reason, until, operator, at FROM ${kind} WHERE user_id = ?`).get(userId) as Ban | null) ?? undefined;
  }

  async setBan(userId: number, ban: Ban | undefined, kind: Sanction = "bans"): Promise<void> {
    if (!ban) this.db.query(`DELETE FROM ${kind} WHERE user_id = ?`).run(userId);
    else this.db.query(`INSERT OR REPLACE INTO ${kind} (user_id, reason, until, operator, at) VALUES (?, ?, ?, ?, ?)`).run(userId, ban.reason, ban.until, ban.operator, ban.at);
  }

  async audit(entry: Omit<AuditEntry, "id">): Promise<void> {
    this.db.query("INSERT INTO audit_log (at, operator, action, target, before, after) VALUES (?, ?, ?, ?, ?, ?)").run(entry.at, entry.operator, entry.action, entry.target, entry.before, entry.after);
  }

  async auditLog(limit: number): Promise<AuditEntry[]> {
    return this.db.query("SELECT id, at, operator, action, target, before, after FROM audit_log ORDER BY id DESC LIMIT ?").all(limit) as AuditEntry[];
  }

  async setDisplayName(playerId: number, name: string): Promise<void> {
    this.db.query("UPDATE players SET name = ? WHERE id = ?").run(name, playerId);
  }

  async linkIdentity(userId: number, identity: Identity): Promise<void> {
    try {
      this.insertIdentity.run(identity.provider, identity.subject, userId, Date.now());
    } catch (err) {
      if (err instanceof Error && /UNIQUE constraint failed/.test(err.message)) throw new IdentityExistsError(`${identity.provider} ${identity.subject}`);
      throw err;
    }
  }

  async unlinkIdentity(userId: number, { provider, subject }: Identity): Promise<"ok" | "unknown" | "last"> {
    return this.db
      .transaction((): "ok" | "unknown" | "last" => {
        const owner = this.db.query("SELECT user_id AS userId FROM identities WHERE provider = ? AND subject = ?").get(provider, subject) as { userId: number } | null;
        if (owner?.userId !== userId) return "unknown";
        const { ways } = this.db
          .query("SELECT (SELECT count(*) FROM identities WHERE user_id = ?1) + (SELECT count(*) FROM users WHERE id = ?1 AND password_hash <> '') AS ways")
          .get(userId) as { ways: number };
        if (ways <= 1) return "last";
        this.db.query("DELETE FROM identities WHERE provider = ? AND subject = ?").run(provider, subject);
        return "ok";
      })
      .immediate();
  }

  async close(): Promise<void> {
    this.objects.drain();
    this.db.close();
    this.lock?.release();
  }
}
