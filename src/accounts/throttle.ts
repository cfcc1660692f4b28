// Failed logins per username and per IP address: past either limit, further attempts are refused
// for a while without checking the password.

interface FailureWindow {
  failures: number[];
  blockedUntil: number;
}

/**
 * Failed logins per username (5 a minute) and per IP address (20 in ten minutes); past either,
 * further attempts are refused for a minute without checking the password. Times are ms from `now`.
 */
export class LoginThrottle {
  private readonly byName = new Map<string, FailureWindow>();
  private readonly byIp = new Map<string, FailureWindow>();

  constructor(
    private readonly rules = {
      name: { failures: 5, windowMs: 60_000, blockMs: 60_000 },
      ip: { failures: 20, windowMs: 600_000, blockMs: 60_000 },
    },
  ) {}

  isBlocked(username: string, ip: string, now: number): boolean {
    return (this.byName.get(username.toLowerCase())?.blockedUntil ?? 0) > now || (this.byIp.get(ip)?.blockedUntil ?? 0) > now;
  }

  recordFailure(username: string, ip: string, now: number): void {
    note(this.byName, username.toLowerCase(), this.rules.name, now);
    note(this.byIp, ip, this.rules.ip, now);
  }

  recordSuccess(username: string): void {
    this.byName.delete(username.toLowerCase());
  }

  /** Forgets windows that can no longer block anyone, so the maps stay small. */
  prune(now: number): void {
    for (const [map, rule] of [
      [this.byName, this.rules.name],
      [this.byIp, this.rules.ip],
    ] as const) {
      for (const [key, w] of map) if (w.blockedUntil <= now && (w.failures.at(-1) ?? 0) <= now - rule.windowMs) map.delete(key);
    }
  }
}

function note(map: Map<string, FailureWindow>, key: string, rule: { failures: number; windowMs: number; blockMs: number }, now: number): void {
  const w = map.get(key) ?? { failures: [], blockedUntil: 0 };
  w.failures = w.failures.filter((t) => t > now - rule.windowMs);
  w.failures.push(now);
  if (w.failures.length >= rule.failures) {
    w.blockedUntil = now + rule.blockMs;
    w.failures = [];
  }
  map.set(key, w);
}
