// The account rules of the series: what a username and a password may be, and the exact reason
// strings its client shows.
import { MAX_PASSWORD_BYTES } from "./passwords.ts";

export const MAX_USERNAME_BYTES = 20;

export const Reason = {
  usernameEmpty: "Invalid username: empty",
  usernameTooLong: "Invalid username: too long",
  usernameWhitespace: "Invalid username: leading or trailing whitespace",
  usernameInvisible: "Invalid username: control or invisible characters",
  passwordEmpty: "Invalid password: empty",
  passwordTooShort: (min: number) => `Invalid password: too short (at least ${min} characters)`,
  passwordTooLong: `Invalid password: too long (at most ${MAX_PASSWORD_BYTES} bytes)`,
  userExists: "User already exists",
  registerFailed: "Failed to register user (internal server error) - please try again later",
  registerLimited: "Too many registrations from your address - please try again later",
  busy: "Server busy - please try again in a moment",
  badLogin: "Incorrect username or password",
  alreadyLoggedIn: "This account is already logged in",
  noSuchPlayer: "No player found with that name",
  unranked: "Player is unranked",
  hiscoresFailed: "Failed to get top scores - please try again later",
} as const;

const byteLength = (s: string) => Buffer.byteLength(s, "utf8");

/**
 * What a name shown to other players may not hold: control characters (newlines, tabs, escapes),
 * format characters (right-to-left overrides, zero-width joiners and spaces, the BOM), line and
 * paragraph separators, and lone surrogates.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

/** The reason a username cannot be registered, or undefined when it can. Lengths count bytes. */
export function usernameProblem(username: string): string | undefined {
  if (username.length === 0) return Reason.usernameEmpty;
  if (byteLength(username) > MAX_USERNAME_BYTES) return Reason.usernameTooLong;
  if (username.trim() !== username) return Reason.usernameWhitespace;
  if (INVISIBLE.test(username)) return Reason.usernameInvisible;
  return undefined;
}

/** The reason a password cannot be registered, or undefined when it can; its length counts characters (code points). */
export function passwordProblem(password: string, minLength: number): string | undefined {
  if (password.length === 0) return Reason.passwordEmpty;
  if ([...password].length < minLength) return Reason.passwordTooShort(minLength);
  if (byteLength(password) > MAX_PASSWORD_BYTES) return Reason.passwordTooLong;
  return undefined;
}
