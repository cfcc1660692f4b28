// Where players are online across the cluster: an account's session key (sessions.ts) names the node
// it is logged in on, which counts only while that node is live (its membership key exists); its
// status (what its friends see) is kept beside it. One script answers for a whole friends list.
import type { Commands } from "./redis.ts";
import { NODE_PREFIX } from "./membership.ts";
import { sessionKey } from "./sessions.ts";

const STATUS_PREFIX = "mmo:status:";
/** The players online on a node, so that whoever hears of its death can tell their friends. */
const nodePlayersKey = (node: string) => `mmo:node-players:${node}`;

/** The members of KEYS[1], and the set deleted in the same step: one node alone gets them. */
const TAKE_ALL = `local members = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return members`;
const statusKey = (userId: number) => `${STATUS_PREFIX}${userId}`;

/**
 * For each session key: the account's status when the node holding it is live (its membership key
 * exists), else false. ARGV: the node prefix, the status prefix, then the user ids in KEYS' order.
 */
const LOOKUP = `local out = {}
for i, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder and redis.call('EXISTS', ARGV[1] .. holder) == 1 then
    out[i] = redis.call('GET', ARGV[2] .. ARGV[i + 2]) or ''
  else
    out[i] = false
  end
end
return out`;
/** A status outlives its session's key at most this long (a node that died without saying). */
const STATUS_TTL_MS = 24 * 3600_000;

/** The players' PresenceDirectory (players/core.ts) of a cluster. */
export class ClusterPresence {
  /** This node's players: their status, fresher than Redis's. */
  private readonly here = new Map<number, string>();

  constructor(
    private readonly redis: Commands,
    private readonly node: string,
    private readonly trouble: (err: unknown) => void,
  ) {}

  set(userId: number, status: string | undefined): void {
    if (status === undefined) {
      this.here.delete(userId);
      this.redis.send("DEL", [statusKey(userId)]).catch(this.trouble);
      this.redis.send("SREM", [nodePlayersKey(this.node), String(userId)]).catch(this.trouble);
    } else {
      if (!this.here.has(userId)) this.redis.send("SADD", [nodePlayersKey(this.node), String(userId)]).catch(this.trouble);
      this.here.set(userId, status);
      this.redis.send("SET", [statusKey(userId), status, "PX", String(STATUS_TTL_MS)]).catch(this.trouble);
    }
  }

  /** The players a dead node had online, for this node to tell their friends; none when another node took them first. */
  async takeGone(node: string): Promise<number[]> {
    const members = (await this.redis.send("EVAL", [TAKE_ALL, "1", nodePlayersKey(node)])) as string[];
    return members.map(Number);
  }

  /** Only this node's own answer goes: the node it moved to keeps the status in Redis. */
  movedAway(userId: number): void {
    this.here.delete(userId);
    this.redis.send("SREM", [nodePlayersKey(this.node), String(userId)]).catch(this.trouble);
  }

  async lookup(userIds: number[]): Promise<Map<number, string>> {
    const online = new Map<number, string>();
    const elsewhere = userIds.filter((id) => {
      const status = this.here.get(id);
      if (status !== undefined) online.set(id, status);
      return status === undefined;
    });
    if (elsewhere.length === 0) return online;
    const statuses = (await this.redis.send("EVAL", [LOOKUP, String(elsewhere.length), ...elsewhere.map(sessionKey), NODE_PREFIX, STATUS_PREFIX, ...elsewhere.map(String)])) as (string | null)[];
    elsewhere.forEach((id, i) => {
      const status = statuses[i];
      if (typeof status === "string") online.set(id, status);
    });
    return online;
  }
}
