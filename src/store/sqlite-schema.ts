// The schema, versioned with PRAGMA user_version. Version 1 is the series' own tables, exactly as its
// Go server creates them (so a series db.sqlite opens as it is), plus the indexes the hiscores need;
// each later version adds what the framework grew (a series database is upgraded in place).
import type { Database } from "bun:sqlite";

const MIGRATIONS: string[] = [
  // 1: the series' tables (kept byte-for-byte compatible) and our indexes.
  `CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS players (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    best_score INTEGER NOT NULL DEFAULT 0,
    color INTEGER NOT NULL,
    FOREIGN KEY (user_id) REFERENCES users(id)
  );
  CREATE INDEX IF NOT EXISTS players_by_user ON players(user_id);
  CREATE INDEX IF NOT EXISTS players_by_board_order ON players(best_score DESC, id);
  CREATE INDEX IF NOT EXISTS players_by_lower_name ON players(lower(name));`,
  // 2: games' storage objects (objects.ts), the usage each owner has of its quota, and the counter
  // that gives every write a new version.
  `CREATE TABLE storage_objects (
    collection TEXT NOT NULL,
    owner INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    version INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (collection, owner, key)
  ) WITHOUT ROWID;
  CREATE TABLE storage_usage (owner INTEGER PRIMARY KEY, objects INTEGER NOT NULL, bytes INTEGER NOT NULL);
  CREATE TABLE storage_clock (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
  INSERT INTO storage_clock (id, version) VALUES (1, 0);`,
  // 3: leaderboard records (leaderboards.ts). The series' best scores become the records of the
  // board "hiscores", one per account (its oldest player's name, its highest score); players.best_score
  // stays, as the series' server left it.
  `CREATE TABLE leaderboard_records (
    board TEXT NOT NULL,
    owner INTEGER NOT NULL,
    name TEXT NOT NULL,
    score INTEGER NOT NULL,
    metadata TEXT,
    period INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (board, owner)
  ) WITHOUT ROWID;
  CREATE INDEX leaderboard_records_by_update ON leaderboard_records(updated_at);
  INSERT INTO leaderboard_records (board, owner, name, score, metadata, period, seq, updated_at)
    SELECT 'hiscores', p.user_id, (SELECT q.name FROM players q WHERE q.user_id = p.user_id ORDER BY q.id LIMIT 1), max(p.best_score), NULL, 0, 1, 0
    FROM players p GROUP BY p.user_id;`,
  // 4: ways into an account besides its username and password (docs/players.md): a device, or a
  // game's provider, each an external id that names one account.
  `CREATE TABLE identities (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (provider, subject)
  ) WITHOUT ROWID;
  CREATE INDEX identities_by_user ON identities(user_id);`,
  // 5: what operators did (docs/deploy.md, the admin API): bans, and the audit log of every action.
  `CREATE TABLE bans (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    reason TEXT NOT NULL,
    until INTEGER NOT NULL,
    operator TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    operator TEXT NOT NULL,
    action TEXT NOT NULL,
    target INTEGER NOT NULL,
    before TEXT,
    after TEXT
  );`,
  // 6: operators' mutes (a muted account's chat lines are refused), as bans are kept.
  `CREATE TABLE mutes (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    reason TEXT NOT NULL,
    until INTEGER NOT NULL,
    operator TEXT NOT NULL,
    at INTEGER NOT NULL
  );`,
  // 7: players among themselves (src/players): friends (a row each way), mutes a player set for
  // itself, notifications kept for the next login, channels' history, parties.
  `CREATE TABLE friends (
    user_id INTEGER NOT NULL REFERENCES users(id),
    other_id INTEGER NOT NULL REFERENCES users(id),
    state TEXT NOT NULL,
    since INTEGER NOT NULL,
    PRIMARY KEY (user_id, other_id)
  ) WITHOUT ROWID;
  CREATE TABLE ignores (
    user_id INTEGER NOT NULL REFERENCES users(id),
    other_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, other_id)
  ) WITHOUT ROWID;
  CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    sender_id INTEGER NOT NULL,
    subject TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX notifications_by_user ON notifications(user_id, id);
  CREATE TABLE channel_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    sender_id INTEGER NOT NULL,
    sender_name TEXT NOT NULL,
    text TEXT NOT NULL,
    sent_at INTEGER NOT NULL
  );
  CREATE INDEX channel_messages_by_channel ON channel_messages(channel, id);
  CREATE TABLE parties (
    id TEXT PRIMARY KEY,
    leader_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE party_members (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    party_id TEXT NOT NULL REFERENCES parties(id),
    joined_at INTEGER NOT NULL
  );
  CREATE INDEX party_members_by_party ON party_members(party_id, joined_at);`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database up to SCHEMA_VERSION, each step in a transaction of its own; returns the version
 * found. Each step reads the version under the write lock (BEGIN IMMEDIATE), so that servers sharing
 * the file and starting at once apply each step once.
 */
export function migrate(db: Database): number {
  const versionOf = () => (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
  const found = versionOf();
  for (;;) {
    const applied = db
      .transaction(() => {
        const version = versionOf();
        if (version > SCHEMA_VERSION) {
          throw new Error(`the database has schema version ${version}, newer than this server's ${SCHEMA_VERSION}: upgrade mmo-server`);
        }
        if (version === SCHEMA_VERSION) return false;
        db.run(MIGRATIONS[version]!);
        db.run(`PRAGMA user_version = ${version + 1}`);
        return true;
      })
      .immediate();
    if (!applied) return found;
  }
}
