// Failed logins, counted so that guessing is slow and a stranger cannot lock a player out: per
// (name, address) and per address, a few failures block; per name, only a flood far above what one
// person types does, and even then only for the addresses that failed for that name, never for one
// that did not (the names are on the public board: five wrong passwords from anywhere must not refuse
// the owner's right one).

interface FailureWindow {
  failures: number[];
  blockedUntil: number;
}

interface Rule {
  failures: number;
  windowMs: number;
  blockMs: number;
}

export interface ThrottleRules {
  /** One name from one address: what one person guessing (or mistyping) does. */
  pair: Rule;
  /** One address, whatever the names. */
  ip: Rule;
  /** One name from every address together: a distributed guess at one account. */
  name: Rule;
}

export const DEFAULT_THROTTLE: ThrottleRules = {
  pair: { failures: 5, windowMs: 60_000, blockMs: 60_000 },
  ip: { failures: 20, windowMs: 600_000, blockMs: 60_000 },
  name: { failures: 100, windowMs: 600_000, blockMs: 600_000 },
};

/** Times are ms from `now`; `ip` is the address as a budget (an IPv6 /64 is one). */
export class LoginThrottle {
  private readonly byPair = new Map<string, FailureWindow>();
  private readonly byIp = new Map<string, FailureWindow>();
  private readonly byName = new Map<string, FailureWindow>();

  constructor(private readonly rules: ThrottleRules = DEFAULT_THROTTLE) {}

  isBlocked(username: string, ip: string, now: number): boolean {
    const name = username.toLowerCase();
    const pair = this.byPair.get(pairKey(name, ip));
    if ((pair?.blockedUntil ?? 0) > now || (this.byIp.get(ip)?.blockedUntil ?? 0) > now) return true;
    // A name under a flood refuses only the addresses that failed for it lately.
    const failedHere = pair !== undefined && (pair.failures.length > 0 || pair.blockedUntil > now - this.rules.pair.windowMs);
    return failedHere && (this.byName.get(name)?.blockedUntil ?? 0) > now;
  }

  recordFailure(username: string, ip: string, now: number): void {
    const name = username.toLowerCase();
    note(this.byPair, pairKey(name, ip), this.rules.pair, now);
    note(this.byIp, ip, this.rules.ip, now);
    note(this.byName, name, this.rules.name, now);
  }

  /** The right password: that name's failures are forgotten (every address's). */
  recordSuccess(username: string): void {
    const name = username.toLowerCase();
    this.byName.delete(name);
    for (const key of this.byPair.keys()) if (key.startsWith(`${name}\n`)) this.byPair.delete(key);
  }

  /** Forgets windows that can no longer block anyone, so the maps stay small. */
  prune(now: number): void {
    for (const [map, rule] of [
      [this.byPair, this.rules.pair],
      [this.byIp, this.rules.ip],
      [this.byName, this.rules.name],
    ] as const) {
      for (const [key, w] of map) if (w.blockedUntil <= now && (w.failures.at(-1) ?? 0) <= now - rule.windowMs) map.delete(key);
    }
  }
}

const pairKey = (name: string, ip: string): string => `${name}\n${ip}`;

function note(map: Map<string, FailureWindow>, key: string, rule: Rule, now: number): void {
  const w = map.get(key) ?? { failures: [], blockedUntil: 0 };
  w.failures = w.failures.filter((t) => t > now - rule.windowMs);
  w.failures.push(now);
  if (w.failures.length >= rule.failures) {
    w.blockedUntil = now + rule.blockMs;
    w.failures = [];
  }
  map.set(key, w);
}
