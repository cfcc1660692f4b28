// Client ids unique across the cluster for its whole life: each node reserves blocks of ids from one
// Redis counter and hands them out locally (the next block is reserved while half of the current one
// is left, so a connection never waits on Redis). A block never starts below a floor: the highest
// id this node has handed out, and the clock (1,000 ids a millisecond since 2026, a minute ahead).
// A Redis restarted without its counter (or from an old snapshot) therefore never hands out an id
// another node may already have used, as long as clocks agree within a minute; ids stay below 2^53
// until the 23rd century.
import type { Commands } from "./redis.ts";

export const ID_BLOCK = 1000;
export const IDS_KEY = "mmo:ids";
const EPOCH_MS = Date.UTC(2026, 0, 1);
const IDS_PER_MS = 1000;
const CLOCK_MARGIN_MS = 60_000;

/** Raises the counter to the floor when below it, then reserves a block; returns the block's last id. */
const RESERVE = `local c = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1])
if c < floor then c = floor end
c = c + tonumber(ARGV[2])
redis.call('SET', KEYS[1], c)
return c`;

export class ClusterIds {
  private nextId = 0;
  private last = -1;
  private spare: { first: number; last: number } | undefined;
  private reserving: Promise<void> | undefined;
  /** The highest id handed out by this node. */
  private highest = 0;

  constructor(
    private readonly redis: Commands,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Reserves the first block; rejects when Redis cannot be reached. */
  async start(): Promise<void> {
    await this.reserve();
    this.advance();
  }

  /** The next id, or undefined when this node has none left (Redis unreachable for a whole block). */
  next(): number | undefined {
    if (this.nextId > this.last && !this.advance()) return undefined;
    const id = this.nextId++;
    this.highest = id;
    if (!this.spare && this.last - this.nextId < ID_BLOCK / 2) {
      this.reserving ??= this.reserve()
        .catch(this.onError)
        .finally(() => (this.reserving = undefined));
    }
    return id;
  }

  private advance(): boolean {
    if (!this.spare) return false;
    this.nextId = this.spare.first;
    this.last = this.spare.last;
    this.spare = undefined;
    return true;
  }

  private async reserve(): Promise<void> {
    const clock = (Date.now() - EPOCH_MS + CLOCK_MARGIN_MS) * IDS_PER_MS;
    const floor = Math.max(this.highest, this.last, clock);
    const last = Number(await this.redis.send("EVAL", [RESERVE, "1", IDS_KEY, String(floor), String(ID_BLOCK)]));
    this.spare = { first: last - ID_BLOCK + 1, last };
  }
}
