// Server-wide counters: what came in, what was dropped and why, how connections ended. Plain numbers,
// so the hot path pays an increment; /metrics and the logs read them.
export class Stats {
  framesIn = 0;
  bytesIn = 0;
  malformedDropped = 0;
  rateDropped = 0;
  /** Direct sends Bun dropped because the client's socket was over the backpressure limit. */
  sendDropped = 0;
  spoofedSenderIds = 0;
  handlerErrors = 0;
  connectionsOpened = 0;
  readonly upgradesRefused = new Map<string, number>();
  readonly closeCodes = new Map<number, number>();

  refuse(reason: string): void {
    this.upgradesRefused.set(reason, (this.upgradesRefused.get(reason) ?? 0) + 1);
  }

  closed(code: number): void {
    this.closeCodes.set(code, (this.closeCodes.get(code) ?? 0) + 1);
  }
}
