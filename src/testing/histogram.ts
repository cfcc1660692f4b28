// A latency histogram with ~1% resolution from 1 µs to ~20 min, cheap to record into and to merge
// across worker processes.
const GROWTH = 1.01;
const MIN_MS = 0.001;
const BUCKETS = Math.ceil(Math.log(1.2e6 / MIN_MS) / Math.log(GROWTH));
const LOG_GROWTH = Math.log(GROWTH);

export class Histogram {
  readonly counts: Uint32Array;
  count = 0;
  max = 0;

  constructor(counts?: number[]) {
    this.counts = new Uint32Array(BUCKETS);
    if (counts) {
      for (let i = 0; i < counts.length; i += 2) this.counts[counts[i]!] = counts[i + 1]!;
      this.count = this.counts.reduce((a, b) => a + b, 0);
    }
  }

  record(ms: number): void {
    const i = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(ms / MIN_MS) / LOG_GROWTH));
    this.counts[i]!++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.max = Math.max(this.max, other.max);
  }

  percentile(q: number): number {
    if (this.count === 0) return NaN;
    const target = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= target) return Math.min(this.max, MIN_MS * GROWTH ** (i + 1));
    }
    return this.max;
  }

  /** Sparse [index, count, …] pairs, for sending between processes. */
  toSparse(): number[] {
    const out: number[] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]) out.push(i, this.counts[i]!);
    return out;
  }

  static fromSparse(sparse: number[], max: number): Histogram {
    const h = new Histogram(sparse);
    h.max = max;
    return h;
  }
}
