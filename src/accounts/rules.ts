// The account rules of the series (the exact reason strings its client shows) and ours beyond it:
// login throttling and one session per account.
import { MAX_PASSWORD_BYTES } from "./passwords.ts";

export const MAX_USERNAME_BYTES = 20;

export const Reason = {
  usernameEmpty: "Invalid username: empty",
  usernameTooLong: "Invalid username: too long",
  usernameWhitespace: "Invalid username: leading or trailing whitespace",
  passwordEmpty: "Invalid password: empty",
  passwordTooLong: `Invalid password: too long (at most ${MAX_PASSWORD_BYTES} bytes)`,
  userExists: "User already exists",
  registerFailed: "Failed to register user (internal server error) - please try again later",
  badLogin: "Incorrect username or password",
  alreadyLoggedIn: "This account is already logged in",
  noSuchPlayer: "No player found with that name",
  unranked: "Player is unranked",
  hiscoresFailed: "Failed to get top scores - please try again later",
} as const;

const byteLength = (s: string) => Buffer.byteLength(s, "utf8");

/** The reason a username cannot be registered, or undefined when it can. Lengths count bytes. */
export function usernameProblem(username: string): string | undefined {
  if (username.length === 0) return Reason.usernameEmpty;
  if (byteLength(username) > MAX_USERNAME_BYTES) return Reason.usernameTooLong;
  if (username.trim() !== username) return Reason.usernameWhitespace;
  return undefined;
}

export function passwordProblem(password: string): string | undefined {
  if (password.length === 0) return Reason.passwordEmpty;
  if (byteLength(password) > MAX_PASSWORD_BYTES) return Reason.passwordTooLong;
  return undefined;
}

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

/** Accounts whose player is in the world, so that one account has one session at a time. */
export class Sessions {
  private readonly userIds = new Set<number>();

  /** Claims the account; false when it is already in use. */
  claim(userId: number): boolean {
    if (this.userIds.has(userId)) return false;
    this.userIds.add(userId);
    return true;
  }

  release(userId: number): void {
    this.userIds.delete(userId);
  }
}
