// A periodic schedule that does not drift: each run aims at start + n · period. Far behind (a stalled
// process), it starts a new schedule rather than run in a burst.
const MAX_LAG_PERIODS = 5;

export class Ticker {
  private timer: Timer | undefined;

  constructor(
    private readonly periodMs: number,
    private readonly run: () => void,
  ) {}

  start(): void {
    if (this.timer) return;
    let origin = performance.now();
    let n = 0;
    const loop = () => {
      this.run();
      n++;
      let delay = origin + n * this.periodMs - performance.now();
      if (delay < -MAX_LAG_PERIODS * this.periodMs) {
        origin = performance.now();
        n = 0;
        delay = this.periodMs;
      }
      this.timer = setTimeout(loop, Math.max(0, delay));
    };
    this.timer = setTimeout(loop, this.periodMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
