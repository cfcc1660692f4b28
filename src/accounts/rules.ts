// The account rules of the series: what a username and a password may be, and the exact reason
// strings its client shows.
import { MAX_PASSWORD_BYTES } from "./passwords.ts";

export const MAX_USERNAME_BYTES = 20;

export const Reason = {
  usernameEmpty: "Invalid username: empty",
  usernameTooLong: "Invalid username: too long",
  usernameWhitespace: "Invalid username: leading or trailing whitespace",
  usernameInvisible: "Invalid username: control or invisible characters",
  usernameReserved: 'Invalid username: "#" starts the names of accounts made without a password',
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

/** The refusals of a device or custom login (identity_response's reason), word for word in docs/players.md. */
export const IdentityReason = {
  deviceId: "Invalid device id: 16 to 128 characters of A-Z, a-z, 0-9, - and _",
  unknownProvider: "Unknown login provider",
  ticketTooLong: "Invalid ticket: at most 4096 bytes",
  ticketRefused: "The provider refused the ticket",
  tooManyTickets: "Too many refused tickets from your address - please try again later",
  providerFailed: "The provider could not check the ticket - please try again later",
  failed: "Failed to log in (internal server error) - please try again later",
} as const;

/** The refusals of link_password_request, link_device_request and unlink_device_request (account_response's reason). */
export const AccountReason = {
  nameEmpty: "Invalid display name: empty",
  nameTooLong: "Invalid display name: too long",
  nameWhitespace: "Invalid display name: leading or trailing whitespace",
  nameInvisible: "Invalid display name: control or invisible characters",
  loginFirst: "Log in first",
  hasPassword: "This account has a username and password already",
  deviceTaken: "That device is linked to an account already",
  providerTaken: "That player's id at the provider is linked to an account already",
  notLinked: "That device is not linked to this account",
  lastWayIn: "That is the last way into this account: link another one first",
  failed: "Failed to change the account (internal server error) - please try again later",
} as const;

/** What a ticket may weigh: the provider's check gets at most this. */
export const MAX_TICKET_BYTES = 4096;

const DEVICE_ID = /^[A-Za-z0-9_-]{16,128}$/;

/** Whether a device id is one a client may present (a random id of its own, 16-128 characters). */
export function validDeviceId(deviceId: string): boolean {
  return DEVICE_ID.test(deviceId);
}

/** Names of login providers: a game's `addProvider` names; "device" is the framework's own. */
export const PROVIDER_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/** The first character of the usernames of accounts made without a password: registration refuses it. */
export const RESERVED_USERNAME_PREFIX = "#";

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
  if (username.startsWith(RESERVED_USERNAME_PREFIX)) return Reason.usernameReserved;
  return undefined;
}

/** The reason a display name cannot be taken, or undefined when it can (the rules of usernames, in bytes). */
export function displayNameProblem(name: string): string | undefined {
  if (name.length === 0) return AccountReason.nameEmpty;
  if (byteLength(name) > MAX_USERNAME_BYTES) return AccountReason.nameTooLong;
  if (name.trim() !== name) return AccountReason.nameWhitespace;
  if (INVISIBLE.test(name)) return AccountReason.nameInvisible;
  return undefined;
}

/** The reason a password cannot be registered, or undefined when it can; its length counts characters (code points). */
export function passwordProblem(password: string, minLength: number): string | undefined {
  if (password.length === 0) return Reason.passwordEmpty;
  if ([...password].length < minLength) return Reason.passwordTooShort(minLength);
  if (byteLength(password) > MAX_PASSWORD_BYTES) return Reason.passwordTooLong;
  return undefined;
}
