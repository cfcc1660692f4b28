// `mmo-server import-sqlite PATH`: carries the players of a SQLite database (ours, or the series' own
// db.sqlite) over to PostgreSQL: users, players, leaderboard records (a series database's best scores
// become the board "hiscores", as its migration does), games' storage objects, and what players have
// among themselves (friends, mutes, notifications, channels' history, parties), in one transaction. Password hashes
// are copied as they are, so bcrypt and argon2id passwords keep working. Ids are shifted past those
// the PostgreSQL database already has, which keeps the board's order among equal scores (older
// accounts first). A second run into the same database is refused: its names are already there.
import type { SQL } from "bun";
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import type { PostgresStore } from "./postgres.ts";
import type { AuditEntry, Ban, RecordRow } from "./store.ts";

export class ImportRefusedError extends Error {}

export interface ImportResult {
  users: number;
  players: number;
  records: number;
  objects: number;
}

/** A leaderboard record as SQLite holds it. */
type RecordSource = Omit<RecordRow, "updatedAt"> & { updated_at: number };

interface ObjectSource {
  collection: string;
  owner: number;
  key: string;
  value: string;
  bytes: number;
  updated_at: number;
}

const SERIES_RECORDS = `SELECT 'hiscores' AS board, p.user_id AS owner, (SELECT q.name FROM players q WHERE q.user_id = p.user_id ORDER BY q.id LIMIT 1) AS name,
  max(p.best_score) AS score, NULL AS metadata, 0 AS period, 1 AS seq, 0 AS updated_at FROM players p GROUP BY p.user_id`;

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
}

interface IdentityRow {
  provider: string;
  subject: string;
  user_id: number;
  created_at: number;
}

/** A ban or mute as SQLite holds it: the account's id beside it. */
type BanRow = Ban & { user_id: number };

type AuditRow = Omit<AuditEntry, "id">;

interface PlayerRow {
  id: number;
  user_id: number;
  name: string;
  best_score: number;
  color: number;
}

/** Players among themselves (schema 7), as SQLite holds them. */
interface SocialSource {
  friends: { user_id: number; other_id: number; state: string; since: number }[];
  ignores: { user_id: number; other_id: number }[];
  notifications: { user_id: number; kind: string; sender_id: number; subject: string; content: string; created_at: number }[];
  lines: { channel: string; sender_id: number; sender_name: string; text: string; sent_at: number }[];
  parties: { id: string; leader_id: number; created_at: number }[];
  members: { user_id: number; party_id: string; joined_at: number }[];
}

function readSqlite(path: string): {
  users: UserRow[];
  players: PlayerRow[];
  identities: IdentityRow[];
  bans: BanRow[];
  mutes: BanRow[];
  audit: AuditRow[];
  records: RecordSource[];
  objects: ObjectSource[];
  social: SocialSource;
} {
  if (!existsSync(path)) throw new ImportRefusedError(`there is no file ${path}`);
  let db: Database;
  try {
    db = new Database(path, { readonly: true, strict: true });
  } catch (err) {
    throw new ImportRefusedError(`cannot open ${path} as an SQLite database: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    const has = (table: string) => db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== null;
    return {
      users: db.query("SELECT id, username, password_hash FROM users ORDER BY id").all() as UserRow[],
      players: db.query("SELECT id, user_id, name, best_score, color FROM players ORDER BY id").all() as PlayerRow[],
      identities: has("identities") ? (db.query("SELECT provider, subject, user_id, created_at FROM identities").all() as IdentityRow[]) : [],
      bans: has("bans") ? (db.query("SELECT user_id, reason, until, operator, at FROM bans").all() as BanRow[]) : [],
      mutes: has("mutes") ? (db.query("SELECT user_id, reason, until, operator, at FROM mutes").all() as BanRow[]) : [],
      audit: has("audit_log") ? (db.query("SELECT at, operator, action, target, before, after FROM audit_log ORDER BY id").all() as AuditRow[]) : [],
      records: db.query(has("leaderboard_records") ? "SELECT * FROM leaderboard_records" : SERIES_RECORDS).all() as RecordSource[],
      objects: has("storage_objects") ? (db.query("SELECT collection, owner, key, value, bytes, updated_at FROM storage_objects").all() as ObjectSource[]) : [],
      social: {
        friends: has("friends") ? (db.query("SELECT user_id, other_id, state, since FROM friends").all() as SocialSource["friends"]) : [],
        ignores: has("ignores") ? (db.query("SELECT user_id, other_id FROM ignores").all() as SocialSource["ignores"]) : [],
        notifications: has("notifications") ? (db.query("SELECT user_id, kind, sender_id, subject, content, created_at FROM notifications ORDER BY id").all() as SocialSource["notifications"]) : [],
        lines: has("channel_messages") ? (db.query("SELECT channel, sender_id, sender_name, text, sent_at FROM channel_messages ORDER BY id").all() as SocialSource["lines"]) : [],
        parties: has("parties") ? (db.query("SELECT id, leader_id, created_at FROM parties").all() as SocialSource["parties"]) : [],
        members: has("party_members") ? (db.query("SELECT user_id, party_id, joined_at FROM party_members").all() as SocialSource["members"]) : [],
      },
    };
  } catch (err) {
    throw new ImportRefusedError(`${path} has no users and players tables of the series: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    db.close();
  }
}

/** Copies the accounts of the SQLite file at `path` into the store's database, all or nothing. */
export async function importSqlite(path: string, store: PostgresStore): Promise<ImportResult> {
  const { users, players, identities, bans, mutes, audit, records, objects, social } = readSqlite(path);
  return store.sql.begin(async (tx) => {
    // Registrations wait for the few seconds this takes, so that the ids below stay free.
    await tx`LOCK TABLE users, players, identities, bans, mutes, audit_log, leaderboard_records, storage_objects, storage_usage, friends, ignores, notifications, channel_messages, parties, party_members IN EXCLUSIVE MODE`;
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
    // A device or provider id that names an account here already refuses the import, as a taken name does.
    const claimed = await tx`
      SELECT provider FROM identities JOIN unnest(${tx.array(identities.map((i) => i.provider), "TEXT")}::text[], ${tx.array(identities.map((i) => i.subject), "TEXT")}::text[]) AS x(p, s)
        ON provider = x.p AND subject = x.s LIMIT 1`;
    if (claimed.length > 0) throw new ImportRefusedError(`devices or provider ids of ${path} name accounts in the database already: it was imported before; nothing was imported`);
    await tx`
      INSERT INTO identities (provider, subject, user_id, created_at)
      SELECT * FROM unnest(${tx.array(identities.map((i) => i.provider), "TEXT")}::text[],
                           ${tx.array(identities.map((i) => i.subject), "TEXT")}::text[],
                           ${tx.array(identities.map((i) => i.user_id + userShift), "INT8")}::bigint[],
                           ${tx.array(identities.map((i) => i.created_at), "INT8")}::bigint[])`;
    // Bans and the audit log name accounts too (the audit's states before and after are kept as written).
    for (const [table, rows] of [["bans", bans], ["mutes", mutes]] as const) {
      await tx.unsafe(
        `INSERT INTO ${table} (user_id, reason, until, operator, at) SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::bigint[])`,
        [rows.map((b) => b.user_id + userShift), rows.map((b) => b.reason), rows.map((b) => b.until), rows.map((b) => b.operator), rows.map((b) => b.at)],
      );
    }
    await tx`
      INSERT INTO audit_log (at, operator, action, target, before, after)
      SELECT * FROM unnest(${tx.array(audit.map((a) => a.at), "INT8")}::bigint[], ${tx.array(audit.map((a) => a.operator), "TEXT")}::text[],
                           ${tx.array(audit.map((a) => a.action), "TEXT")}::text[], ${tx.array(audit.map((a) => a.target + userShift), "INT8")}::bigint[],
                           ${tx.array(audit.map((a) => a.before), "TEXT")}::text[], ${tx.array(audit.map((a) => a.after), "TEXT")}::text[])`;
    // Records and objects belong to accounts (owner: a user id), shifted with them; game-wide objects (owner 0) are not.
    await tx`
      INSERT INTO leaderboard_records (board, owner, name, score, metadata, period, seq, updated_at)
      SELECT * FROM unnest(${tx.array(records.map((r) => r.board), "TEXT")}::text[],
                           ${tx.array(records.map((r) => r.owner + userShift), "INT8")}::bigint[],
                           ${tx.array(records.map((r) => r.name), "TEXT")}::text[],
                           ${tx.array(records.map((r) => r.score), "INT8")}::bigint[],
                           ${tx.array(records.map((r) => r.metadata), "TEXT")}::text[],
                           ${tx.array(records.map((r) => r.period), "INT8")}::bigint[],
                           ${tx.array(records.map((r) => r.seq), "INT8")}::bigint[],
                           ${tx.array(records.map((r) => r.updated_at), "INT8")}::bigint[])`;
    const owners = objects.map((o) => (o.owner === 0 ? 0 : o.owner + userShift));
    await tx`
      INSERT INTO storage_objects (collection, owner, key, value, version, bytes, updated_at)
      SELECT c, o, k, v, nextval('storage_versions'), b, u FROM unnest(
        ${tx.array(objects.map((o) => o.collection), "TEXT")}::text[], ${tx.array(owners, "INT8")}::bigint[],
        ${tx.array(objects.map((o) => o.key), "TEXT")}::text[], ${tx.array(objects.map((o) => o.value), "TEXT")}::text[],
        ${tx.array(objects.map((o) => o.bytes), "INT4")}::integer[], ${tx.array(objects.map((o) => o.updated_at), "INT8")}::bigint[]) AS x(c, o, k, v, b, u)`;
    await tx`
      INSERT INTO storage_usage (owner, objects, bytes)
      SELECT owner, count(*), sum(bytes) FROM storage_objects WHERE owner = ANY(${tx.array([...new Set(owners.filter((o) => o !== 0))], "INT8")}::bigint[]) GROUP BY owner`;
    await importSocial(tx, social, userShift);
    // New registrations continue after the imported ids.
    await tx`SELECT setval(pg_get_serial_sequence('users', 'id'), max(id)) FROM users HAVING count(*) > 0`;
    await tx`SELECT setval(pg_get_serial_sequence('players', 'id'), max(id)) FROM players HAVING count(*) > 0`;
    return { users: users.length, players: players.length, records: records.length, objects: objects.length };
  });
}

/** Friends, mutes, notifications, channels' history and parties, their accounts shifted as the users are. */
async function importSocial(tx: SQL, social: SocialSource, userShift: number): Promise<void> {
  const user = (id: number) => id + userShift;
  const { friends, ignores, notifications, lines, parties, members } = social;
  await tx.unsafe("INSERT INTO friends (user_id, other_id, state, since) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[])", [
    friends.map((f) => user(f.user_id)),
    friends.map((f) => user(f.other_id)),
    friends.map((f) => f.state),
    friends.map((f) => f.since),
  ]);
  await tx.unsafe("INSERT INTO ignores (user_id, other_id) SELECT * FROM unnest($1::bigint[], $2::bigint[])", [ignores.map((i) => user(i.user_id)), ignores.map((i) => user(i.other_id))]);
  await tx.unsafe("INSERT INTO notifications (user_id, kind, sender_id, subject, content, created_at) SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[])", [
    notifications.map((n) => user(n.user_id)),
    notifications.map((n) => n.kind),
    notifications.map((n) => (n.sender_id === 0 ? 0 : user(n.sender_id))),
    notifications.map((n) => n.subject),
    notifications.map((n) => n.content),
    notifications.map((n) => n.created_at),
  ]);
  // A pair's direct messages are kept under both players' ids ("dm:A:B"), which move with them.
  const channel = (name: string) => name.replace(/^dm:(\d+):(\d+)$/, (_, a: string, b: string) => `dm:${user(Number(a))}:${user(Number(b))}`);
  await tx.unsafe("INSERT INTO channel_messages (channel, sender_id, sender_name, text, sent_at) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[])", [
    lines.map((l) => channel(l.channel)),
    lines.map((l) => user(l.sender_id)),
    lines.map((l) => l.sender_name),
    lines.map((l) => l.text),
    lines.map((l) => l.sent_at),
  ]);
  await tx.unsafe("INSERT INTO parties (id, leader_id, created_at) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])", [parties.map((p) => p.id), parties.map((p) => user(p.leader_id)), parties.map((p) => p.created_at)]);
  await tx.unsafe("INSERT INTO party_members (user_id, party_id, joined_at) SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])", [members.map((m) => user(m.user_id)), members.map((m) => m.party_id), members.map((m) => m.joined_at)]);
}
