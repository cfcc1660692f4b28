// Per-client counting: a token bucket for the message rate, and a windowed counter of strikes
// (malformed frames, messages over the rate) that decides when a client has gone too far.

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one token; false when the bucket is empty (the message is over the limit). */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether a token is there to take, without taking it. */
  peek(now: number): boolean {
    this.refill(now);
    return this.tokens >= 1;
  }

  /** Whether the bucket has refilled completely (and may be forgotten). */
  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }
}

/** Counts strikes in fixed windows; `add` says whether the count has now passed the limit. */
export class StrikeWindow {
  private count = 0;
  private windowStart: number;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    now: number,
  ) {
    this.windowStart = now;
  }

  add(now: number): boolean {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    return ++this.count > this.limit;
  }
}
