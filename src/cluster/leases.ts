// Room ownership: `mmo:room:ID:owner` holds the owner node's name with an expiry its owner renews
// every second; `mmo:room:ID:snapshot` holds the owner's latest snapshot of the room, with an expiry
// too. A lease that lapses (its owner died, or lost Redis while the others kept it) is taken by the
// first node to ask, in one step with reading the snapshot to restore from.
import type { Commands } from "./redis.ts";
import type { Seal } from "./seal.ts";

export const LEASE_TTL_MS = 3000;
/** A snapshot outlives its owner long enough for a successor to restore it, not forever. */
export const SNAPSHOT_TTL_MS = 60_000;

const ownerKey = (room: string) => `mmo:room:${room}:owner`;
const snapshotKey = (room: string) => `mmo:room:${room}:snapshot`;

/** Renews the lease when this node holds it, re-takes it when nobody does (Redis restarted); returns the holder. */
const RENEW = `local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] or not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return holder`;

/** Takes a lease nobody holds; returns {1, snapshot or false} when taken, {0, holder} when not. */
const TAKE = `if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  return {1, redis.call('GET', KEYS[2])}
end
return {0, redis.call('GET', KEYS[1])}`;

/** Gives the lease up, if this node still holds it. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export type TakeResult = { taken: true; snapshot: string | undefined } | { taken: false; holder: string | undefined };

export class Leases {
  /** Snapshots whose signature did not hold (written by anyone but a node of this cluster): not restored. */
  rejectedSnapshots = 0;

  constructor(
    private readonly redis: Commands,
    private readonly node: string,
    private readonly seal: Seal,
  ) {}

  /** The node holding the room's lease now (this one after the call, unless another holds it). */
  async renew(room: string): Promise<string> {
    return String(await this.redis.send("EVAL", [RENEW, "1", ownerKey(room), this.node, String(LEASE_TTL_MS)]));
  }

  async owner(room: string): Promise<string | undefined> {
    return ((await this.redis.send("GET", [ownerKey(room)])) as string | null) ?? undefined;
  }

  async take(room: string): Promise<TakeResult> {
    const [taken, value] = (await this.redis.send("EVAL", [TAKE, "2", ownerKey(room), snapshotKey(room), this.node, String(LEASE_TTL_MS)])) as [number, string | null];
    if (taken !== 1) return { taken: false, holder: value ?? undefined };
    const snapshot = value ? this.seal.openSnapshot(value) : undefined;
    if (value && snapshot === undefined) this.rejectedSnapshots++;
    return { taken: true, snapshot };
  }

  async saveSnapshot(room: string, json: string): Promise<void> {
    await this.redis.send("SET", [snapshotKey(room), this.seal.snapshot(json), "PX", String(SNAPSHOT_TTL_MS)]);
  }

  async release(room: string): Promise<void> {
    await this.redis.send("EVAL", [RELEASE, "1", ownerKey(room), this.node]);
  }
}
