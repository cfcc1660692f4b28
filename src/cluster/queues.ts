// Matchmaking queues in Redis (see rooms/matches.ts): one list per queue and filter of entries
// {node, clientId, at}. One Lua step adds an entry and, when the list holds a match's worth, takes
// them out together, so an entry is in one match at most; entries past their expiry, and those of
// nodes no longer live, are dropped on the way.
import type { Commands } from "./redis.ts";
import { NODE_PREFIX } from "./membership.ts";

/** An entry's member as rooms/matches.ts has it: a client of a node, or a party member named by its account. */
interface MatchMember {
  node: string;
  clientId: number;
  party?: boolean;
  userId?: number;
}

const queueKey = (queue: string, filter: string) => `mmo:queue:${queue}:${filter}`;

/**
 * ARGV: node, clientId, size, now, ttl, node prefix, the entry's members (JSON: a party's, on any
 * node; the client alone otherwise). An entry of several members takes as many places. Returns the
 * members of the entries that make a match (JSON), or none: the oldest entry that can be completed,
 * with the oldest others that fit beside it (so that a party is not kept waiting behind a player
 * alone it cannot join).
 */
const ENQUEUE = `local now, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
for _, e in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local ok, v = pcall(cjson.decode, e)
  if not ok or now - v.at > ttl or redis.call('EXISTS', ARGV[6] .. v.node) == 0
     or (v.node == ARGV[1] and v.clientId == tonumber(ARGV[2])) then
    redis.call('LREM', KEYS[1], 0, e)
  end
end
redis.call('RPUSH', KEYS[1], cjson.encode({node = ARGV[1], clientId = tonumber(ARGV[2]), at = now, members = cjson.decode(ARGV[7])}))
redis.call('PEXPIRE', KEYS[1], ttl)
local size = tonumber(ARGV[3])
local entries = {}
for _, e in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local v = cjson.decode(e)
  entries[#entries + 1] = {raw = e, v = v, n = v.members and #v.members or 1}
end
for i = 1, #entries do
  local taken, count = {entries[i]}, entries[i].n
  for j = 1, #entries do
    if count >= size then break end
    if j ~= i and count + entries[j].n <= size then
      taken[#taken + 1] = entries[j]
      count = count + entries[j].n
    end
  end
  if count == size then
    local out = {}
    for _, t in ipairs(taken) do
      redis.call('LREM', KEYS[1], 1, t.raw)
      for _, m in ipairs(t.v.members or {{node = t.v.node, clientId = t.v.clientId}}) do out[#out + 1] = cjson.encode(m) end
    end
    return out
  end
end
return {}`;

/** ARGV: node, clientId. */
const REMOVE = `for _, e in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local ok, v = pcall(cjson.decode, e)
  if ok and v.node == ARGV[1] and v.clientId == tonumber(ARGV[2]) then redis.call('LREM', KEYS[1], 0, e) end
end
return 0`;

export class ClusterQueues {
  constructor(
    private readonly redis: Commands,
    readonly node: string,
  ) {}

  /** Adds the entry of `clientId` (with `members`: a party's, the client among them); resolves to a match's members, or to none. */
  async enqueue(queue: string, filter: string, clientId: number, size: number, ttlMs: number, members: MatchMember[] = [{ node: this.node, clientId }]): Promise<MatchMember[]> {
    const matched = (await this.redis.send("EVAL", [ENQUEUE, "1", queueKey(queue, filter), this.node, String(clientId), String(size), String(Date.now()), String(ttlMs), NODE_PREFIX, JSON.stringify(members)])) as string[];
    return matched.map((e) => JSON.parse(e) as MatchMember);
  }

  async remove(queue: string, filter: string, clientId: number): Promise<void> {
    await this.redis.send("EVAL", [REMOVE, "1", queueKey(queue, filter), this.node, String(clientId)]);
  }
}
