// One session per account across the cluster: `mmo:session:USER_ID` holds the name of the node where
// the account is logged in. A claim succeeds when nobody holds the session, or when its holder is no
// longer a live node (its membership key expired): a dead node's sessions are free at once. The key
// expires after a while unless its node refreshes it (every few minutes, as long as the session
// lives), so that nothing outlives a cluster that is gone, and a long session stays protected.
import type { Commands } from "./redis.ts";
import { NODE_PREFIX } from "./membership.ts";

const SESSION_TTL_MS = 30 * 60_000;
/** How often a node pushes back the expiry of the sessions it holds: well within their lifetime. */
export const SESSION_REFRESH_MS = 5 * 60_000;
export const sessionKey = (userId: number) => `mmo:session:${userId}`;
const tokenKey = (token: string) => `mmo:resume:${token}`;

/** Returns 1 when claimed for ARGV[1], 0 when a live node holds it. */
const CLAIM = `local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. holder) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Pushes back the expiry of each key still held by ARGV[1]; returns how many. */
const REFRESH = `local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('PEXPIRE', key, ARGV[2]); n = n + 1 end
end
return n`;

export class ClusterSessions {
  /** The accounts whose sessions this node holds. */
  private readonly held = new Set<number>();

  constructor(
    private readonly redis: Commands,
    private readonly node: string,
  ) {}

  /** False when the account is logged in on a live node (this one included: the caller checks its own first). */
  async claim(userId: number): Promise<boolean> {
    const claimed = Number(await this.redis.send("EVAL", [CLAIM, "1", sessionKey(userId), this.node, String(SESSION_TTL_MS), NODE_PREFIX])) === 1;
    if (claimed) this.held.add(userId);
    return claimed;
  }

  /** Pushes back the expiry of every session this node holds (those another node took meanwhile are left alone); resolves to how many. */
  async refresh(): Promise<number> {
    if (this.held.size === 0) return 0;
    const keys = [...this.held].map(sessionKey);
    return Number(await this.redis.send("EVAL", [REFRESH, String(keys.length), ...keys, this.node, String(SESSION_TTL_MS)]));
  }

  /** The account's session moves to this node (a session resumed here, handed over by its holder). */
  async take(userId: number): Promise<void> {
    this.held.add(userId);
    await this.redis.send("SET", [sessionKey(userId), this.node, "PX", String(SESSION_TTL_MS)]);
  }

  /** Where a resume token's session is held: set when the token is given, for any node to find. */
  async tokenAt(token: string, ttlMs: number): Promise<void> {
    await this.redis.send("SET", [tokenKey(token), this.node, "PX", String(ttlMs)]);
  }

  async tokenGone(token: string): Promise<void> {
    await this.redis.send("DEL", [tokenKey(token)]);
  }

  /** The node holding the session of a resume token, if any. */
  async locateToken(token: string): Promise<string | undefined> {
    const node = (await this.redis.send("GET", [tokenKey(token)])) as string | null;
    return node ?? undefined;
  }

  /** The node the account is logged in on, if any. */
  async holder(userId: number): Promise<string | undefined> {
    const node = (await this.redis.send("GET", [sessionKey(userId)])) as string | null;
    return node ?? undefined;
  }

  /** The session moved to another node (which took the key): this node no longer refreshes it. */
  movedAway(userId: number): void {
    this.held.delete(userId);
  }

  async release(userId: number): Promise<void> {
    this.held.delete(userId);
    await this.redis.send("EVAL", [RELEASE, "1", sessionKey(userId), this.node]);
  }
}
