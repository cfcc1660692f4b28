// A SQLite database of many players for benchmarks, written directly (one shared password hash), so
// that 200,000 players take seconds rather than the hours registrations would.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { seededRandom } from "../rooms/random.ts";
import { DB_FILE, SqliteStore } from "../store/sqlite.ts";

export const playerName = (i: number) => `player${String(i).padStart(6, "0")}`;

/**
 * Creates `count` accounts named playerName(1..count) with `password` and random best scores (on the
 * leaderboard `board`, Radius Rumble's hiscores) in `dataDir`; returns their names in board order (best first).
 */
export async function fillPlayers(dataDir: string, count: number, password: string, board = "hiscores"): Promise<string[]> {
  await SqliteStore.open(dataDir).close();
  const hash = await Bun.password.hash(password, { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 });
  const random = seededRandom(1);
  const scores = Array.from({ length: count }, () => Math.floor(random() * 100_000));
  const db = new Database(join(dataDir, DB_FILE));
  const user = db.query("INSERT INTO users (id, username, password_hash) VALUES (?, ?, ?)");
  const player = db.query("INSERT INTO players (id, user_id, name, best_score, color) VALUES (?, ?, ?, ?, ?)");
  const record = db.query("INSERT INTO leaderboard_records (board, owner, name, score, metadata, period, seq, updated_at) VALUES (?, ?, ?, ?, NULL, 0, 1, 0)");
  db.transaction(() => {
    for (let i = 1; i <= count; i++) {
      user.run(i, playerName(i).toLowerCase(), hash);
      player.run(i, i, playerName(i), scores[i - 1]!, i);
      record.run(board, i, playerName(i), scores[i - 1]!);
    }
  })();
  db.close();
  const order = scores.map((score, i) => ({ score, id: i + 1 })).sort((a, b) => b.score - a.score || a.id - b.id);
  return order.map((p) => playerName(p.id));
}
