// The shared store: accounts, games' objects and leaderboard records in PostgreSQL through Bun's
// built-in client (Bun.sql), for several machines that share one database. Same tables and behaviour
// as the SQLite store; what SQLite never needed is here: concurrent writers (a unique index decides
// between two registrations of one name; row locks order writes to one object or record) and a
// database that goes away and comes back (queries fail fast, the pool reconnects by itself, boards
// keep their records in a queue).
import { SQL } from "bun";
import { errorText, type Logger } from "../log.ts";
import { PostgresBoards } from "./postgres-boards.ts";
import { PostgresObjects } from "./postgres-objects.ts";
import { PostgresSocial } from "./postgres-social.ts";
import { migrate, SCHEMA_VERSION } from "./postgres-schema.ts";
import { maskUrl, urlTarget } from "../url.ts";
import { IdentityExistsError, StoreOpenError, UserExistsError, type Account, type AuditEntry, type Ban, type Identity, type PlayerRecord, type Sanction, type Store } from "./store.ts";

const POOL_SIZE = 10;
/** SQLSTATE of a unique violation. */
const UNIQUE_VIOLATION = "23505";
/** Seconds to wait for a connection; a login waits at most this long while the database is down. */
const CONNECT_TIMEOUT_S = 5;
/** No query of ours takes this long on a healthy database. */
const STATEMENT_TIMEOUT_MS = 10_000;

interface AccountRow {
  userId: string;
  passwordHash: string;
  playerId: string;
  name: string;
  color: number;
}

export class PostgresStore implements Store {
  readonly description: string;
  readonly schemaVersion = SCHEMA_VERSION;
  readonly objects = new PostgresObjects((run, repeatable) => this.query(run, repeatable));
  readonly boards = new PostgresBoards((run, repeatable) => this.query(run, repeatable));
  readonly social = new PostgresSocial((run, repeatable) => this.query(run, repeatable));
  /** Whether the last query failed for want of a connection (the outage is logged once). */
  private down = false;

  private constructor(
    readonly sql: SQL,
    url: string,
    private readonly log: Logger,
  ) {
    this.description = `PostgreSQL ${maskUrl(url)}`;
  }

  /** Connects and migrates; a database that cannot be reached or is newer than this server throws StoreOpenError. */
  static async open(url: string, log: Logger): Promise<PostgresStore> {
    const sql = new SQL(url, {
      max: POOL_SIZE,
      connectionTimeout: CONNECT_TIMEOUT_S,
      idleTimeout: 60,
      connection: { statement_timeout: STATEMENT_TIMEOUT_MS, application_name: "mmo-server" },
    });
    try {
      await migrate(sql);
    } catch (err) {
      await sql.close({ timeout: 0 }).catch(() => {});
      throw new StoreOpenError(`cannot use the database at ${urlTarget(url)}: ${scrub(errorText(err), url)} (check --database-url, and that PostgreSQL runs and accepts this user)`);
    }
    return new PostgresStore(sql, url, log);
  }

  async findAccount(username: string): Promise<Account | undefined> {
    const rows = await this.query<AccountRow[]>(
      (sql) => sql`
        SELECT u.id AS "userId", u.password_hash AS "passwordHash", p.id AS "playerId", p.name AS name,
               p.color AS color
        FROM users u JOIN players p ON p.user_id = u.id
        WHERE u.username = ${username.toLowerCase()} ORDER BY p.id LIMIT 1`,
    );
    const row = rows[0];
    if (!row) return undefined;
    return { ...row, userId: Number(row.userId), playerId: Number(row.playerId) };
  }

  async createAccount(username: string, passwordHash: string, color: number): Promise<Account> {
    // One statement, so one transaction: the user and its player exist together or not at all. Two
    // registrations of one name at once: the unique index on users.username lets one through.
    let rows: { userId: string; playerId: string }[];
    try {
      rows = await this.query(
        (sql) => sql`
          WITH u AS (INSERT INTO users (username, password_hash) VALUES (${username.toLowerCase()}, ${passwordHash}) RETURNING id)
          INSERT INTO players (user_id, name, best_score, color) SELECT id, ${username}, 0, ${color} FROM u
          RETURNING user_id AS "userId", id AS "playerId"`,
        false, // had it committed before the connection broke, a retry would answer "User already exists"
      );
    } catch (err) {
      if (err instanceof SQL.PostgresError && err.errno === UNIQUE_VIOLATION) throw new UserExistsError(username);
      throw err;
    }
    const row = rows[0]!;
    return { userId: Number(row.userId), passwordHash, playerId: Number(row.playerId), name: username, color };
  }

  async findIdentity({ provider, subject }: Identity): Promise<Account | undefined> {
    const rows = await this.query<AccountRow[]>(
      (sql) => sql`
        SELECT u.id AS "userId", u.password_hash AS "passwordHash", p.id AS "playerId", p.name AS name,
               p.color AS color
        FROM identities i JOIN users u ON u.id = i.user_id JOIN players p ON p.user_id = u.id
        WHERE i.provider = ${provider} AND i.subject = ${subject} ORDER BY p.id LIMIT 1`,
    );
    const row = rows[0];
    if (!row) return undefined;
    return { ...row, userId: Number(row.userId), playerId: Number(row.playerId) };
  }

  async createIdentityAccount(identity: Identity, username: string, displayName: string, color: number): Promise<Account> {
    // One statement, so one transaction: the user, its identity and its player exist together or not
    // at all; two first logins of one identity at once: its primary key lets one through.
    let rows: { userId: string; playerId: string }[];
    try {
      rows = await this.query(
        (sql) => sql`
          WITH u AS (INSERT INTO users (username, password_hash) VALUES (${username.toLowerCase()}, '') RETURNING id),
               i AS (INSERT INTO identities (provider, subject, user_id, created_at) SELECT ${identity.provider}, ${identity.subject}, id, ${Date.now()} FROM u)
          INSERT INTO players (user_id, name, best_score, color) SELECT id, ${displayName}, 0, ${color} FROM u
          RETURNING user_id AS "userId", id AS "playerId"`,
        false,
      );
    } catch (err) {
      if (err instanceof SQL.PostgresError && err.errno === UNIQUE_VIOLATION) {
        if (/identities/.test(err.message) || /identities/.test(String((err as { constraint?: string }).constraint ?? ""))) throw new IdentityExistsError(`${identity.provider} ${identity.subject}`);
        throw new UserExistsError(username);
      }
      throw err;
    }
    const row = rows[0]!;
    return { userId: Number(row.userId), passwordHash: "", playerId: Number(row.playerId), name: displayName, color };
  }

  async setCredentials(userId: number, username: string, passwordHash: string): Promise<boolean> {
    try {
      const rows = await this.query(
        (sql) => sql`UPDATE users SET username = ${username.toLowerCase()}, password_hash = ${passwordHash} WHERE id = ${userId} AND password_hash = '' RETURNING id`,
      );
      return rows.length === 1;
    } catch (err) {
      if (err instanceof SQL.PostgresError && err.errno === UNIQUE_VIOLATION) throw new UserExistsError(username);
      throw err;
    }
  }

  async findPlayers({ id, name, device }: { id?: number; name?: string; device?: string }): Promise<PlayerRecord[]> {
    // One query whatever is asked: the unused conditions are null.
    const rows = await this.query<{ userId: string; username: string; name: string; color: number; devices: string[] | null }[]>(
      (sql) => sql`
        SELECT u.id AS "userId", u.username AS username, p.name AS name, p.color AS color,
               (SELECT array_agg(subject ORDER BY created_at) FROM identities i WHERE i.user_id = u.id AND i.provider = 'device') AS devices
        FROM users u JOIN players p ON p.id = (SELECT min(id) FROM players WHERE user_id = u.id)
        WHERE (${id ?? null}::bigint IS NOT NULL AND u.id = ${id ?? null}::bigint)
           OR (${name ?? null}::text IS NOT NULL AND (u.username = lower(${name ?? null}::text) OR lower(p.name) = lower(${name ?? null}::text)))
           OR (${device ?? null}::text IS NOT NULL AND u.id IN (SELECT user_id FROM identities WHERE provider = 'device' AND subject = ${device ?? null}::text))
        ORDER BY u.id LIMIT 50`,
    );
    return rows.map((r) => ({ userId: Number(r.userId), username: r.username, name: r.name, color: r.color, devices: r.devices ?? [] }));
  }

  async banOf(userId: number, kind: Sanction = "bans"): Promise<Ban | undefined> {
    // The table's name is one of two constants (Sanction), never input.
    const [row] = await this.query<{ reason: string; until: string; operator: string; at: string }[]>((sql) => sql.unsafe(`SELECT reason, until, operator, at FROM ${kind} WHERE user_id = $1`, [userId]));
    return row && { reason: row.reason, until: Number(row.until), operator: row.operator, at: Number(row.at) };
  }

  async setBan(userId: number, ban: Ban | undefined, kind: Sanction = "bans"): Promise<void> {
    await this.query((sql) =>
      ban
        ? sql.unsafe(
            `INSERT INTO ${kind} (user_id, reason, until, operator, at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (user_id) DO UPDATE SET reason = excluded.reason, until = excluded.until, operator = excluded.operator, at = excluded.at`,
            [userId, ban.reason, ban.until, ban.operator, ban.at],
          )
        : sql.unsafe(`DELETE FROM ${kind} WHERE user_id = $1`, [userId]),
    );
  }

  async audit(entry: Omit<AuditEntry, "id">): Promise<void> {
    await this.query(
      (sql) => sql`INSERT INTO audit_log (at, operator, action, target, before, after) VALUES (${entry.at}, ${entry.operator}, ${entry.action}, ${entry.target}, ${entry.before}, ${entry.after})`,
      false,
    );
  }

  async auditLog(limit: number): Promise<AuditEntry[]> {
    const rows = await this.query<{ id: string; at: string; operator: string; action: string; target: string; before: string | null; after: string | null }[]>(
      (sql) => sql`SELECT id, at, operator, action, target, before, after FROM audit_log ORDER BY id DESC LIMIT ${limit}`,
    );
    return rows.map((r) => ({ ...r, id: Number(r.id), at: Number(r.at), target: Number(r.target) }));
  }

  async setDisplayName(playerId: number, name: string): Promise<void> {
    await this.query((sql) => sql`UPDATE players SET name = ${name} WHERE id = ${playerId}`);
  }

  async linkIdentity(userId: number, identity: Identity): Promise<void> {
    try {
      await this.query(
        (sql) => sql`INSERT INTO identities (provider, subject, user_id, created_at) VALUES (${identity.provider}, ${identity.subject}, ${userId}, ${Date.now()})`,
        false,
      );
    } catch (err) {
      if (err instanceof SQL.PostgresError && err.errno === UNIQUE_VIOLATION) throw new IdentityExistsError(`${identity.provider} ${identity.subject}`);
      throw err;
    }
  }

  async unlinkIdentity(userId: number, { provider, subject }: Identity): Promise<"ok" | "unknown" | "last"> {
    return this.query((sql) =>
      sql.begin(async (tx) => {
        // The account's row is locked first, so that two unlinks of its last two ways in cannot both pass.
        await tx`SELECT id FROM users WHERE id = ${userId} FOR UPDATE`;
        const [owner] = await tx`SELECT user_id AS "userId" FROM identities WHERE provider = ${provider} AND subject = ${subject}`;
        if (!owner || Number(owner.userId) !== userId) return "unknown" as const;
        const [{ ways }] = await tx`
          SELECT (SELECT count(*) FROM identities WHERE user_id = ${userId}) + (SELECT count(*) FROM users WHERE id = ${userId} AND password_hash <> '') AS ways`;
        if (Number(ways) <= 1) return "last" as const;
        await tx`DELETE FROM identities WHERE provider = ${provider} AND subject = ${subject}`;
        return "ok" as const;
      }),
    );
  }

  async close(): Promise<void> {
    await this.sql.close({ timeout: 5 });
  }

  /**
   * Runs a query; logs the database going away and coming back once each. A query that only reads,
   * or writes what it may write twice, is `repeatable`: after a restart of the database the pool may
   * still hold connections the old server closed, and each of them fails once, so such a query is
   * tried again on another connection.
   */
  private async query<T>(run: (sql: SQL) => Promise<T>, repeatable = true): Promise<T> {
    try {
      let result: T;
      for (let attempt = 1; ; attempt++) {
        try {
          result = await run(this.sql);
          break;
        } catch (err) {
          if (!repeatable || !isStaleConnection(err) || attempt > POOL_SIZE) throw err;
        }
      }
      if (this.down) {
        this.down = false;
        this.log.info("The database is reachable again");
      }
      return result;
    } catch (err) {
      if (isConnectionError(err) && !this.down) {
        this.down = true;
        this.log.error(`The database is unreachable (${errorText(err)}); logins, registrations and storage fail until it is back, leaderboard records are kept`);
      }
      throw err;
    }
  }
}

/** Whether the error is about the connection, not the query: Bun's connection errors, SQLSTATE classes 08 and 57P. */
function isConnectionError(err: unknown): boolean {
  if (!(err instanceof SQL.PostgresError)) return false;
  if (err.errno === undefined) return /CONNECTION|TIMEOUT|CLOSED|REFUSED/.test(err.code);
  return err.errno.startsWith("08") || err.errno.startsWith("57P");
}

/**
 * Whether the error comes from a pooled connection that the server closed (a restart, an
 * administrator): another connection may work at once. Refused or timed-out connections are not
 * retried, so that a login fails within one connection timeout while the database is down.
 */
function isStaleConnection(err: unknown): boolean {
  if (!(err instanceof SQL.PostgresError)) return false;
  return err.errno === undefined ? /CLOSED/.test(err.code) : err.errno.startsWith("57P");
}

/** An error text with the URL's password taken out, in case a driver quotes the URL. */
function scrub(text: string, url: string): string {
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password ? text.split(password).join("***") : text;
  } catch {
    return text;
  }
}
