// Players among themselves in SQLite: friends, mutes, notifications, channels' history and parties.
// A change reads and writes under one immediate transaction, so that two requests of a pair (or two
// joins of a party) made at once by servers sharing the file see each other.
import type { Database } from "bun:sqlite";
import type { ChannelRow, FriendRow, FriendState, NotificationRow, PairDecision, PairView, PartyDecision, PartyRow, SocialBackend } from "./store.ts";

const CHANNEL_COLUMNS = "id, channel, sender_id AS senderId, sender_name AS senderName, text, sent_at AS sentAt";
const NOTIFICATION_COLUMNS = "id, user_id AS userId, kind, sender_id AS senderId, subject, content, created_at AS createdAt";

export class SqliteSocial implements SocialBackend {
  constructor(private readonly db: Database) {}

  async friendsOf(userId: number): Promise<FriendRow[]> {
    return this.db
      .query(
        `SELECT f.other_id AS userId, coalesce(p.name, '') AS name, f.state AS state, f.since AS since
         FROM friends f LEFT JOIN players p ON p.id = (SELECT min(id) FROM players WHERE user_id = f.other_id)
         WHERE f.user_id = ? ORDER BY f.since, f.other_id`,
      )
      .all(userId) as FriendRow[];
  }

  async pairState(a: number, b: number): Promise<FriendState | undefined> {
    return (this.db.query("SELECT state FROM friends WHERE user_id = ? AND other_id = ?").get(a, b) as { state: FriendState } | null)?.state;
  }

  async changePair<R>(a: number, b: number, decide: (pair: PairView) => PairDecision<R>): Promise<R> {
    return this.db
      .transaction((): R => {
        const state = (from: number, to: number) => (this.db.query("SELECT state FROM friends WHERE user_id = ? AND other_id = ?").get(from, to) as { state: FriendState } | null)?.state;
        const count = (user: number, kind: FriendState) => (this.db.query("SELECT count(*) AS n FROM friends WHERE user_id = ? AND state = ?").get(user, kind) as { n: number }).n;
        const decision = decide({ ab: state(a, b), ba: state(b, a), aFriends: count(a, "friend"), aSent: count(a, "sent"), bFriends: count(b, "friend"), bReceived: count(b, "received") });
        const now = Date.now();
        const write = (from: number, to: number, next: FriendState | null | undefined) => {
          if (next === null) this.db.query("DELETE FROM friends WHERE user_id = ? AND other_id = ?").run(from, to);
          else if (next !== undefined) {
            this.db
              .query("INSERT INTO friends (user_id, other_id, state, since) VALUES (?, ?, ?, ?) ON CONFLICT (user_id, other_id) DO UPDATE SET state = excluded.state, since = excluded.since")
              .run(from, to, next, now);
          }
        };
        write(a, b, decision.ab);
        write(b, a, decision.ba);
        return decision.result;
      })
      .immediate();
  }

  async ignoresOf(userId: number): Promise<number[]> {
    return (this.db.query("SELECT other_id AS id FROM ignores WHERE user_id = ? ORDER BY other_id").all(userId) as { id: number }[]).map((r) => r.id);
  }

  async setIgnore(userId: number, otherId: number, on: boolean): Promise<void> {
    if (on) this.db.query("INSERT OR IGNORE INTO ignores (user_id, other_id) VALUES (?, ?)").run(userId, otherId);
    else this.db.query("DELETE FROM ignores WHERE user_id = ? AND other_id = ?").run(userId, otherId);
  }

  async addNotification(row: Omit<NotificationRow, "id">): Promise<number> {
    const inserted = this.db
      .query("INSERT INTO notifications (user_id, kind, sender_id, subject, content, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id")
      .get(row.userId, row.kind, row.senderId, row.subject, row.content, row.createdAt) as { id: number };
    return inserted.id;
  }

  async takeNotifications(userId: number, limit: number): Promise<NotificationRow[]> {
    return this.db
      .transaction((): NotificationRow[] => {
        const rows = this.db.query(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = ? ORDER BY id LIMIT ?`).all(userId, limit) as NotificationRow[];
        if (rows.length > 0) this.db.query("DELETE FROM notifications WHERE user_id = ? AND id <= ?").run(userId, rows.at(-1)!.id);
        return rows;
      })
      .immediate();
  }

  async postMessage(row: Omit<ChannelRow, "id">, keep: number): Promise<number> {
    return this.db
      .transaction((): number => {
        const { id } = this.db
          .query("INSERT INTO channel_messages (channel, sender_id, sender_name, text, sent_at) VALUES (?, ?, ?, ?, ?) RETURNING id")
          .get(row.channel, row.senderId, row.senderName, row.text, row.sentAt) as { id: number };
        this.db
          .query("DELETE FROM channel_messages WHERE channel = ?1 AND id <= (SELECT id FROM channel_messages WHERE channel = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)")
          .run(row.channel, keep);
        return id;
      })
      .immediate();
  }

  async history(channel: string, before: number, limit: number): Promise<ChannelRow[]> {
    return this.db
      .query(`SELECT ${CHANNEL_COLUMNS} FROM channel_messages WHERE channel = ? AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`)
      .all(channel, before, before, limit) as ChannelRow[];
  }

  async partyOf(userId: number): Promise<PartyRow | undefined> {
    const member = this.db.query("SELECT party_id AS id FROM party_members WHERE user_id = ?").get(userId) as { id: string } | null;
    return member ? this.partyRow(member.id) : undefined;
  }

  async party(id: string): Promise<PartyRow | undefined> {
    return this.partyRow(id);
  }

  async createParty(id: string, leaderId: number): Promise<boolean> {
    return this.db
      .transaction((): boolean => {
        if (this.db.query("SELECT 1 FROM party_members WHERE user_id = ?").get(leaderId)) return false;
        const now = Date.now();
        this.db.query("INSERT INTO parties (id, leader_id, created_at) VALUES (?, ?, ?)").run(id, leaderId, now);
        this.db.query("INSERT INTO party_members (user_id, party_id, joined_at) VALUES (?, ?, ?)").run(leaderId, id, now);
        return true;
      })
      .immediate();
  }

  async changeParty<R>(id: string, decide: (party: PartyRow | undefined) => PartyDecision<R>): Promise<R | undefined> {
    return this.db
      .transaction((): R | undefined => {
        const decision = decide(this.partyRow(id));
        if (decision.add !== undefined) {
          if (this.db.query("SELECT 1 FROM party_members WHERE user_id = ?").get(decision.add)) return undefined;
          this.db.query("INSERT INTO party_members (user_id, party_id, joined_at) VALUES (?, ?, ?)").run(decision.add, id, Date.now());
        }
        if (decision.remove !== undefined) this.db.query("DELETE FROM party_members WHERE user_id = ? AND party_id = ?").run(decision.remove, id);
        if (decision.leaderId !== undefined) this.db.query("UPDATE parties SET leader_id = ? WHERE id = ?").run(decision.leaderId, id);
        if (decision.dissolve) {
          this.db.query("DELETE FROM party_members WHERE party_id = ?").run(id);
          this.db.query("DELETE FROM parties WHERE id = ?").run(id);
        }
        return decision.result;
      })
      .immediate();
  }

  private partyRow(id: string): PartyRow | undefined {
    const party = this.db.query("SELECT id, leader_id AS leaderId FROM parties WHERE id = ?").get(id) as { id: string; leaderId: number } | null;
    if (!party) return undefined;
    const members = this.db
      .query("SELECT m.user_id AS userId, coalesce(p.name, '') AS name FROM party_members m LEFT JOIN players p ON p.id = (SELECT min(id) FROM players WHERE user_id = m.user_id) WHERE m.party_id = ? ORDER BY m.joined_at, m.user_id")
      .all(id) as { userId: number; name: string }[];
    return { ...party, members };
  }
}
