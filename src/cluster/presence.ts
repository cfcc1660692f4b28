// Where players are online across the cluster: an account's session key (sessions.ts) names the node
// it is logged in on, which counts only while that node is live; its status (what its friends see)
// is kept beside it. One MGET answers for a whole friends list.
import type { RedisClient } from "bun";
import type { PresenceDirectory } from "../players/core.ts";
import { sessionKey } from "./sessions.ts";

const statusKey = (userId: number) => `mmo:status:${userId}`;
/** A status outlives its session's key at most this long (a node that died without saying). */
const STATUS_TTL_MS = 24 * 3600_000;

export class ClusterPresence implements PresenceDirectory {
  /** This node's players: their status, fresher than Redis's. */
  private readonly here = new Map<number, string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly liveNodes: () => readonly string[],
    private readonly trouble: (err: unknown) => void,
  ) {}

  set(userId: number, status: string | undefined): void {
    if (status === undefined) {
      this.here.delete(userId);
      this.redis.send("DEL", [statusKey(userId)]).catch(this.trouble);
    } else {
      this.here.set(userId, status);
      this.redis.send("SET", [statusKey(userId), status, "PX", String(STATUS_TTL_MS)]).catch(this.trouble);
    }
  }

  async lookup(userIds: number[]): Promise<Map<number, string>> {
    const online = new Map<number, string>();
    const elsewhere = userIds.filter((id) => {
      const status = this.here.get(id);
      if (status !== undefined) online.set(id, status);
      return status === undefined;
    });
    if (elsewhere.length === 0) return online;
    const values = (await this.redis.send("MGET", [...elsewhere.map(sessionKey), ...elsewhere.map(statusKey)])) as (string | null)[];
    const live = new Set(this.liveNodes());
    elsewhere.forEach((id, i) => {
      const node = values[i];
      if (node && live.has(node)) online.set(id, values[elsewhere.length + i] ?? "");
    });
    return online;
  }
}
