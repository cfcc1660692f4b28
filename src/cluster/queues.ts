// Matchmaking queues in Redis (see rooms/matches.ts): one list per queue and filter of entries
// {node, clientId, at}. One Lua step adds an entry and, when the list holds a match's worth, takes
// them out together, so an entry is in one match at most; entries past their expiry, and those of
// nodes no longer live, are dropped on the way.
import type { RedisClient } from "bun";
import { NODE_PREFIX } from "./membership.ts";

const queueKey = (queue: string, filter: string) => `mmo:queue:${queue}:${filter}`;

/** ARGV: node, clientId, size, now, ttl, node prefix. Returns the matched entries (JSON), or none. */
const ENQUEUE = `local now, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
for _, e in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local ok, v = pcall(cjson.decode, e)
  if not ok or now - v.at > ttl or redis.call('EXISTS', ARGV[6] .. v.node) == 0
     or (v.node == ARGV[1] and v.clientId == tonumber(ARGV[2])) then
    redis.call('LREM', KEYS[1], 0, e)
  end
end
redis.call('RPUSH', KEYS[1], cjson.encode({node = ARGV[1], clientId = tonumber(ARGV[2]), at = now}))
redis.call('PEXPIRE', KEYS[1], ttl)
local size = tonumber(ARGV[3])
if redis.call('LLEN', KEYS[1]) < size then return {} end
local out = {}
for i = 1, size do out[i] = redis.call('LPOP', KEYS[1]) end
return out`;

/** ARGV: node, clientId. */
const REMOVE = `for _, e in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local ok, v = pcall(cjson.decode, e)
  if ok and v.node == ARGV[1] and v.clientId == tonumber(ARGV[2]) then redis.call('LREM', KEYS[1], 0, e) end
end
return 0`;

export class ClusterQueues {
  constructor(
    private readonly redis: RedisClient,
    readonly node: string,
  ) {}

  async enqueue(queue: string, filter: string, clientId: number, size: number, ttlMs: number): Promise<{ node: string; clientId: number }[]> {
    const matched = (await this.redis.send("EVAL", [ENQUEUE, "1", queueKey(queue, filter), this.node, String(clientId), String(size), String(Date.now()), String(ttlMs), NODE_PREFIX])) as string[];
    return matched.map((e) => {
      const { node, clientId: id } = JSON.parse(e) as { node: string; clientId: number };
      return { node, clientId: id };
    });
  }

  async remove(queue: string, filter: string, clientId: number): Promise<void> {
    await this.redis.send("EVAL", [REMOVE, "1", queueKey(queue, filter), this.node, String(clientId)]);
  }
}
