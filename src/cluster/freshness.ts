// Whether a batch from another node arrives fresh: a node that was paused (a long GC, a stopped VM, a
// frozen container) wakes to a backlog on its Redis connection, and a room's per-tick state in it was
// already stale when it was sent on. A batch is late when its delay, from its origin's clock to this
// node's, is more than STALE_MS over the smallest delay seen from that origin lately (so that a
// constant skew between the machines' clocks does not count).
export const STALE_MS = 100;
/** The smallest delay is the least of this window and the one before. */
const WINDOW_MS = 10_000;

export class Freshness {
  private readonly least = new Map<string, { current: number; previous: number; since: number }>();

  /** How late the batch is beyond the usual delay from its origin, in ms (0: on time). */
  lateness(origin: string, sentAt: number, now: number): number {
    const delay = now - sentAt;
    let seen = this.least.get(origin);
    if (!seen) this.least.set(origin, (seen = { current: delay, previous: delay, since: now }));
    if (now - seen.since > WINDOW_MS) {
      seen.previous = seen.current;
      seen.current = delay;
      seen.since = now;
    }
    seen.current = Math.min(seen.current, delay);
    return Math.max(0, delay - Math.min(seen.current, seen.previous));
  }
}
