// Players among themselves in PostgreSQL, as in SQLite (sqlite-social.ts). A pair's change locks both
// players' rows in id order first, so that two requests of one pair made on two nodes at once are
// decided one after the other (and cannot deadlock); a party's change locks the party's row.
import type { SQL } from "bun";
import type { Runner } from "./postgres-objects.ts";
import type { ChannelRow, FriendRow, FriendState, NotificationRow, PairDecision, PairView, PartyDecision, PartyRow, SocialBackend } from "./store.ts";

type Tx = SQL;
/** The row with its bigint columns (which the driver gives as strings) as numbers. */
function numbers<T extends object>(row: T, keys: (keyof T)[]): T {
  for (const key of keys) row[key] = Number(row[key]) as T[keyof T];
  return row;
}

export class PostgresSocial implements SocialBackend {
  constructor(private readonly query: Runner) {}

  async friendsOf(userId: number): Promise<FriendRow[]> {
    const rows = await this.query<FriendRow[]>(
      (sql) => sql`
        SELECT f.other_id AS "userId", coalesce(p.name, '') AS name, f.state AS state, f.since AS since
        FROM friends f LEFT JOIN players p ON p.id = (SELECT min(id) FROM players WHERE user_id = f.other_id)
        WHERE f.user_id = ${userId} ORDER BY f.since, f.other_id`,
    );
    return rows.map((r) => numbers(r, ["userId", "since"]));
  }

  async pairState(a: number, b: number): Promise<FriendState | undefined> {
    const [row] = await this.query<{ state: FriendState }[]>((sql) => sql`SELECT state FROM friends WHERE user_id = ${a} AND other_id = ${b}`);
    return row?.state;
  }

  async changePair<R>(a: number, b: number, decide: (pair: PairView) => PairDecision<R>): Promise<R> {
    return this.query(
      (sql) =>
        sql.begin(async (tx: Tx) => {
          await tx`SELECT id FROM users WHERE id IN (${Math.min(a, b)}, ${Math.max(a, b)}) ORDER BY id FOR UPDATE`;
          const state = async (from: number, to: number) => ((await tx`SELECT state FROM friends WHERE user_id = ${from} AND other_id = ${to}`)[0] as { state: FriendState } | undefined)?.state;
          const count = async (user: number, kind: FriendState) => Number((await tx`SELECT count(*) AS n FROM friends WHERE user_id = ${user} AND state = ${kind}`)[0].n);
          const decision = decide({ ab: await state(a, b), ba: await state(b, a), aFriends: await count(a, "friend"), aSent: await count(a, "sent"), bFriends: await count(b, "friend"), bReceived: await count(b, "received") });
          const now = Date.now();
          const write = async (from: number, to: number, next: FriendState | null | undefined) => {
            if (next === null) await tx`DELETE FROM friends WHERE user_id = ${from} AND other_id = ${to}`;
            else if (next !== undefined) {
              await tx`INSERT INTO friends (user_id, other_id, state, since) VALUES (${from}, ${to}, ${next}, ${now})
                       ON CONFLICT (user_id, other_id) DO UPDATE SET state = excluded.state, since = excluded.since`;
            }
          };
          await write(a, b, decision.ab);
          await write(b, a, decision.ba);
          return decision.result;
        }),
      false,
    );
  }

  async ignoresOf(userId: number): Promise<number[]> {
    const rows = await this.query<{ id: string }[]>((sql) => sql`SELECT other_id AS id FROM ignores WHERE user_id = ${userId} ORDER BY other_id`);
    return rows.map((r) => Number(r.id));
  }

  async setIgnore(userId: number, otherId: number, on: boolean): Promise<void> {
    await this.query((sql) => (on ? sql`INSERT INTO ignores (user_id, other_id) VALUES (${userId}, ${otherId}) ON CONFLICT DO NOTHING` : sql`DELETE FROM ignores WHERE user_id = ${userId} AND other_id = ${otherId}`));
  }

  async addNotification(row: Omit<NotificationRow, "id">): Promise<number> {
    const [inserted] = await this.query<{ id: string }[]>(
      (sql) => sql`INSERT INTO notifications (user_id, kind, sender_id, subject, content, created_at)
                   VALUES (${row.userId}, ${row.kind}, ${row.senderId}, ${row.subject}, ${row.content}, ${row.createdAt}) RETURNING id`,
      false,
    );
    return Number(inserted!.id);
  }

  async takeNotifications(userId: number, limit: number): Promise<NotificationRow[]> {
    // One statement: the rows it deletes are the rows it returns, even with two logins at once.
    const rows = await this.query<NotificationRow[]>(
      (sql) => sql`
        DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE user_id = ${userId} ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING id, user_id AS "userId", kind, sender_id AS "senderId", subject, content, created_at AS "createdAt"`,
      false,
    );
    return rows.map((r) => numbers(r, ["id", "userId", "senderId", "createdAt"])).sort((x, y) => x.id - y.id);
  }

  async postMessage(row: Omit<ChannelRow, "id">, keep: number): Promise<number> {
    return this.query(
      (sql) =>
        sql.begin(async (tx: Tx) => {
          const [inserted] = await tx`INSERT INTO channel_messages (channel, sender_id, sender_name, text, sent_at)
                                      VALUES (${row.channel}, ${row.senderId}, ${row.senderName}, ${row.text}, ${row.sentAt}) RETURNING id`;
          await tx`DELETE FROM channel_messages WHERE channel = ${row.channel}
                   AND id <= (SELECT id FROM channel_messages WHERE channel = ${row.channel} ORDER BY id DESC LIMIT 1 OFFSET ${keep})`;
          return Number(inserted.id);
        }),
      false,
    );
  }

  async history(channel: string, before: number, limit: number): Promise<ChannelRow[]> {
    const rows = await this.query<ChannelRow[]>(
      (sql) => sql`
        SELECT id, channel, sender_id AS "senderId", sender_name AS "senderName", text, sent_at AS "sentAt"
        FROM channel_messages WHERE channel = ${channel} AND (${before}::bigint = 0 OR id < ${before}) ORDER BY id DESC LIMIT ${limit}`,
    );
    return rows.map((r) => numbers(r, ["id", "senderId", "sentAt"]));
  }

  async partyOf(userId: number): Promise<PartyRow | undefined> {
    return this.query(async (sql) => {
      const [member] = await sql`SELECT party_id AS id FROM party_members WHERE user_id = ${userId}`;
      return member ? partyRow(sql, member.id as string) : undefined;
    });
  }

  async party(id: string): Promise<PartyRow | undefined> {
    return this.query((sql) => partyRow(sql, id));
  }

  async createParty(id: string, leaderId: number): Promise<boolean> {
    return this.query(
      (sql) =>
        sql.begin(async (tx: Tx) => {
          await tx`SELECT id FROM users WHERE id = ${leaderId} FOR UPDATE`;
          if ((await tx`SELECT 1 FROM party_members WHERE user_id = ${leaderId}`).length > 0) return false;
          const now = Date.now();
          await tx`INSERT INTO parties (id, leader_id, created_at) VALUES (${id}, ${leaderId}, ${now})`;
          await tx`INSERT INTO party_members (user_id, party_id, joined_at) VALUES (${leaderId}, ${id}, ${now})`;
          return true;
        }),
      false,
    );
  }

  async changeParty<R>(id: string, decide: (party: PartyRow | undefined) => PartyDecision<R>): Promise<R | undefined> {
    return this.query(
      (sql) =>
        sql.begin(async (tx: Tx) => {
          await tx`SELECT id FROM parties WHERE id = ${id} FOR UPDATE`;
          const decision = decide(await partyRow(tx, id));
          if (decision.add !== undefined) {
            const [added] = await tx`INSERT INTO party_members (user_id, party_id, joined_at) VALUES (${decision.add}, ${id}, ${Date.now()}) ON CONFLICT (user_id) DO NOTHING RETURNING user_id`;
            if (!added) return undefined;
          }
          if (decision.remove !== undefined) await tx`DELETE FROM party_members WHERE user_id = ${decision.remove} AND party_id = ${id}`;
          if (decision.leaderId !== undefined) await tx`UPDATE parties SET leader_id = ${decision.leaderId} WHERE id = ${id}`;
          if (decision.dissolve) {
            await tx`DELETE FROM party_members WHERE party_id = ${id}`;
            await tx`DELETE FROM parties WHERE id = ${id}`;
          }
          return decision.result;
        }),
      false,
    );
  }
}

async function partyRow(sql: SQL, id: string): Promise<PartyRow | undefined> {
  const [party] = await sql`SELECT id, leader_id AS "leaderId" FROM parties WHERE id = ${id}`;
  if (!party) return undefined;
  const members = await sql`
    SELECT m.user_id AS "userId", coalesce(p.name, '') AS name FROM party_members m LEFT JOIN players p ON p.id = (SELECT min(id) FROM players WHERE user_id = m.user_id)
    WHERE m.party_id = ${id} ORDER BY m.joined_at, m.user_id`;
  return { id: party.id as string, leaderId: Number(party.leaderId), members: (members as { userId: string; name: string }[]).map((m) => ({ userId: Number(m.userId), name: m.name })) };
}
