// Registration and login, as the series' client expects them, with what the series lacked: hashing
// off the event loop in a bounded queue fair between addresses, throttled failures, registrations
// limited per address, and one session per account.
import type { ClientInterfacer } from "../hub/client.ts";
import { TokenBucket } from "../rate.ts";
import type { LoginOutcome, Stats } from "../hub/stats.ts";
import { errorText, quote } from "../log.ts";
import { newDenyResponse, newOkResponse, type CustomLoginRequestMessage, type DeviceLoginRequestMessage, type LinkPasswordRequestMessage, type LoginRequestMessage, type Msg, type RegisterRequestMessage } from "../packets/index.ts";
import { IdentityExistsError, UserExistsError, type Account, type Ban, type Identity, type Store } from "../store/store.ts";
import { DEFAULT_HASH_QUEUE, HashQueue, QueueFullError, type HashQueueLimits } from "./hash-queue.ts";
import { hashPassword, MAX_PASSWORD_BYTES, verifyPassword } from "./passwords.ts";
import { AccountReason, displayNameProblem, IdentityReason, MAX_TICKET_BYTES, MAX_USERNAME_BYTES, passwordProblem, PROVIDER_NAME, Reason, RESERVED_USERNAME_PREFIX, usernameProblem, validDeviceId } from "./rules.ts";
import { Sessions } from "./sessions.ts";
import { LoginThrottle } from "./throttle.ts";

export interface AccountsDeps {
  store: Store;
  stats: Stats;
  /** Milliseconds, for the throttle's windows. */
  now(): number;
  limits: { registerBurst: number; registerPerMinute: number; minPasswordLength: number };
  hashQueue?: HashQueueLimits;
  /** In a cluster: sessions held across nodes, and failed logins told to every node. */
  shared?: SharedAccounts;
  /** Ends the held session of the account (resume.ts), if it has one: its player is back another way. */
  endHeldSession?(userId: number): void;
  /** Ends a live session of the account continued through a resume token (a password login takes the account back). */
  endResumedSession?(userId: number): boolean;
  /** The account's display name changed: its records on the boards take it. */
  renamed?(userId: number, name: string): Promise<void>;
  /** Why the account may not log in now (an operator's ban), or undefined. */
  refusal?(userId: number): Promise<string | undefined>;
  /** The account's mute, if an operator muted it: kept on the session, for its chat lines. */
  muteOf?(userId: number): Promise<Ban | undefined>;
  /** A session began on this client (a login, answered already; or one restored or resumed here). */
  loggedIn?(client: ClientInterfacer, account: Account): void;
  /** The client's session ended (a logout, a closed connection, a held session given up). */
  loggedOut?(client: ClientInterfacer, account: Account): void;
  /** The client's session moved to another node: this node forgets it, nobody is told it ended. */
  moved?(client: ClientInterfacer, account: Account): void;
}

/** What a cluster adds to accounts; a node that cannot reach it serves its own clients alone. */
export interface SharedAccounts {
  /** False when the account is logged in on another live node; rejects when the cluster is unreachable. */
  claim(userId: number): Promise<boolean>;
  release(userId: number): void;
  /** Tells the other nodes' throttles. */
  failed(username: string, ip: string): void;
  succeeded(username: string): void;
}

/**
 * A game's way into accounts (a platform's tickets, its own tokens): checks a ticket and gives the
 * player's id at the provider (at most 128 bytes), or undefined to refuse it. A rejection is taken as
 * the provider being unreachable (the client is told to try again later).
 */
export type IdentityProvider = (ticket: string) => Promise<string | undefined> | string | undefined;

/** The provider name of device logins. */
export const DEVICE_PROVIDER = "device";
const MAX_SUBJECT_BYTES = 128;
/** What a login's task comes to when another of the client's is in progress. */
const BUSY = Symbol("busy");
/** The characters of generated display names: no 0/O or 1/l/I to misread. */
const NAME_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

function randomName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return `Guest-${[...bytes].map((b) => NAME_ALPHABET[b % NAME_ALPHABET.length]).join("")}`;
}

export class Accounts {
  readonly throttle = new LoginThrottle();
  readonly sessions = new Sessions();
  private readonly providers = new Map<string, IdentityProvider>();
  /** Clients with a login or registration in progress (hashed, or checked by a provider); another one meanwhile is ignored. */
  private readonly busy = new Set<number>();
  readonly hashQueue: HashQueue;
  /** Registrations per address: a burst, then a steady rate. */
  private readonly registrations = new Map<string, TokenBucket>();

  constructor(private readonly deps: AccountsDeps) {
    this.hashQueue = new HashQueue(deps.hashQueue ?? DEFAULT_HASH_QUEUE);
  }

  /** The account logged in on this client, if any. */
  accountOf(client: ClientInterfacer): Account | undefined {
    return client.account;
  }

  /**
   * Checks the name and password; on success claims the account for this client, sends ok_response
   * and returns the account. Every failure is answered with a deny_response here. Resolves undefined
   * also when the client left its state (or closed) while the password was being checked.
   */
  async login(client: ClientInterfacer, { username, password }: LoginRequestMessage): Promise<Account | undefined> {
    const { store, stats } = this.deps;
    // A name no account can have is refused before it is used as a key of the throttle.
    if (Buffer.byteLength(username) > MAX_USERNAME_BYTES) {
      stats.login("bad_credentials");
      client.log.info(`Failed login for ${quote(username)}`);
      client.socketSend(newDenyResponse(Reason.badLogin));
      return undefined;
    }
    if (this.throttle.isBlocked(username, client.ipBudget, this.deps.now())) {
      stats.login("throttled");
      client.log.info(`Login for ${quote(username)} refused: too many failed attempts (from ${client.ip})`);
      client.socketSend(newDenyResponse(Reason.badLogin));
      return undefined;
    }
    const change = client.stateChanges;
    let account: Account | undefined;
    const valid = await this.exclusive(client, async () => {
      account = Buffer.byteLength(password) <= MAX_PASSWORD_BYTES ? await store.findAccount(username) : undefined;
      return verifyPassword(password, account?.passwordHash);
    }).catch((err: unknown) => {
      // The queue is full or the database unavailable: the login is denied, and it does not count as a failed attempt.
      if (err instanceof QueueFullError) {
        stats.login("busy");
        client.log.warn(`Login for ${quote(username)} refused: the password queue is full (${err.message}; from ${client.ip})`);
        client.socketSend(newDenyResponse(Reason.busy));
        return undefined;
      }
      client.log.error(`Login for ${quote(username)} failed: ${errorText(err)}`);
      stats.login("failed");
      client.socketSend(newDenyResponse(Reason.badLogin));
      return undefined;
    });
    if (valid === undefined || client.stateChanges !== change) return undefined;
    if (!valid || !account) {
      this.throttle.recordFailure(username, client.ipBudget, this.deps.now());
      this.deps.shared?.failed(username, client.ipBudget);
      stats.login("bad_credentials");
      client.log.info(`Failed login for ${quote(username)}`);
      client.socketSend(newDenyResponse(Reason.badLogin));
      return undefined;
    }
    this.throttle.recordSuccess(username);
    this.deps.shared?.succeeded(username);
    const banned = await this.banned(client, account);
    if (banned !== undefined) {
      stats.login("bad_credentials");
      client.socketSend(newDenyResponse(banned));
      return undefined;
    }
    if (client.stateChanges !== change) return undefined;
    this.deps.endHeldSession?.(account.userId);
    if (this.deps.endResumedSession?.(account.userId)) client.log.info(`User ${quote(username)} took the account back from a session continued through its token`);
    if (!this.sessions.claim(account.userId) || !(await this.claimShared(client, account.userId))) {
      stats.login("already_logged_in");
      client.log.info(`Login for ${quote(username)} refused: the account is already logged in`);
      client.socketSend(newDenyResponse(Reason.alreadyLoggedIn));
      return undefined;
    }
    if (client.stateChanges !== change) {
      this.release(account.userId);
      return undefined;
    }
    client.account = account;
    stats.login("ok");
    client.log.info(`User ${quote(username)} logged in`);
    client.socketSend(newOkResponse());
    this.deps.loggedIn?.(client, account);
    return account;
  }

  /** Stores a new account (committed before the ok_response) or answers why not; resolves to the account, if made. */
  async register(client: ClientInterfacer, { username, password, color }: RegisterRequestMessage): Promise<Account | undefined> {
    const { store, stats } = this.deps;
    const problem = usernameProblem(username) ?? passwordProblem(password, this.deps.limits.minPasswordLength);
    if (problem) {
      stats.registration("invalid");
      client.socketSend(newDenyResponse(problem));
      return;
    }
    if (!this.mayRegister(client.ipBudget)) {
      stats.registration("limited");
      client.log.info(`Registration of ${quote(username)} refused: over ${this.deps.limits.registerPerMinute} a minute from ${client.ip}`);
      client.socketSend(newDenyResponse(Reason.registerLimited));
      return;
    }
    const change = client.stateChanges;
    let account: Account;
    try {
      const hash = await this.exclusive(client, async () => {
        // Checked before hashing, to spare the work; the unique index decides a race.
        if (await store.findAccount(username)) throw new UserExistsError(username);
        return hashPassword(password);
      });
      if (hash === undefined || client.stateChanges !== change) return;
      account = await store.createAccount(username, hash, color);
    } catch (err) {
      if (err instanceof UserExistsError) {
        stats.registration("exists");
        client.socketSend(newDenyResponse(Reason.userExists));
        return;
      }
      if (err instanceof QueueFullError) {
        stats.registration("busy");
        client.log.warn(`Registration of ${quote(username)} refused: the password queue is full (${err.message}; from ${client.ip})`);
        client.socketSend(newDenyResponse(Reason.busy));
        return;
      }
      client.log.error(`Failed to register ${quote(username)}: ${errorText(err)}`);
      stats.registration("failed");
      client.socketSend(newDenyResponse(Reason.registerFailed));
      return;
    }
    stats.registration("ok");
    client.log.info(`User ${quote(username.toLowerCase())} registered`);
    client.socketSend(newOkResponse());
    return account;
  }

  /**
   * Adds a way into accounts for custom_login_request: `name` (lower case, at most 32 characters; not
   * "device") and the check of its tickets. A game calls it in `create`.
   */
  addProvider(name: string, verify: IdentityProvider): void {
    if (!PROVIDER_NAME.test(name) || name === DEVICE_PROVIDER) throw new Error(`a login provider's name is 1-32 of a-z, 0-9, - and _, starting with a letter, and not "${DEVICE_PROVIDER}": got ${JSON.stringify(name)}`);
    if (this.providers.has(name)) throw new Error(`the login provider "${name}" is added already`);
    this.providers.set(name, verify);
  }

  /** A device's login: its account, made at once the first time. Answered with identity_response. */
  async loginDevice(client: ClientInterfacer, { deviceId, color }: DeviceLoginRequestMessage): Promise<Account | undefined> {
    if (!validDeviceId(deviceId)) return this.refuseIdentity(client, IdentityReason.deviceId, "bad_credentials");
    return this.loginIdentity(client, { provider: DEVICE_PROVIDER, subject: deviceId }, color);
  }

  /** A login through a game's provider: its check of the ticket names the account, made the first time. */
  async loginCustom(client: ClientInterfacer, { provider, ticket, color }: CustomLoginRequestMessage): Promise<Account | undefined> {
    const checked = await this.checkTicket(client, provider, ticket);
    if (checked === undefined) return undefined;
    if ("refused" in checked) return this.refuseIdentity(client, checked.refused, checked.outcome);
    return this.loginIdentity(client, { provider, subject: checked.subject }, color);
  }

  /**
   * A ticket checked by its provider: the player's id there, or why not (undefined: the client is busy
   * with another login, or left its state meanwhile). Refused tickets count as failed logins of the
   * address (under a name no account can have): past the throttle's limits the provider is not asked.
   */
  private async checkTicket(client: ClientInterfacer, provider: string, ticket: string): Promise<{ subject: string } | { refused: string; outcome: LoginOutcome } | undefined> {
    const verify = this.providers.get(provider);
    if (!verify) return { refused: IdentityReason.unknownProvider, outcome: "bad_credentials" };
    if (Buffer.byteLength(ticket) > MAX_TICKET_BYTES) return { refused: IdentityReason.ticketTooLong, outcome: "bad_credentials" };
    const throttled = `${RESERVED_USERNAME_PREFIX}${provider}`;
    if (this.throttle.isBlocked(throttled, client.ipBudget, this.deps.now())) {
      client.log.info(`A ${provider} ticket refused unchecked: too many refused from ${client.ip}`);
      return { refused: IdentityReason.tooManyTickets, outcome: "throttled" };
    }
    const change = client.stateChanges;
    let subject: string | undefined;
    try {
      const checked = await this.alone(client, async () => verify(ticket));
      if (checked === BUSY) return undefined;
      subject = checked;
    } catch (err) {
      client.log.warn(`The login provider "${provider}" could not check a ticket: ${errorText(err)}`);
      return { refused: IdentityReason.providerFailed, outcome: "failed" };
    }
    if (client.stateChanges !== change) return undefined;
    if (subject !== undefined && (typeof subject !== "string" || subject.length === 0 || Buffer.byteLength(subject) > MAX_SUBJECT_BYTES)) {
      client.log.error(`The login provider "${provider}" named a player with ${JSON.stringify(subject)}: an id is 1-${MAX_SUBJECT_BYTES} bytes of text`);
      return { refused: IdentityReason.providerFailed, outcome: "failed" };
    }
    if (subject === undefined) {
      this.throttle.recordFailure(throttled, client.ipBudget, this.deps.now());
      this.deps.shared?.failed(throttled, client.ipBudget);
      client.log.info(`The login provider "${provider}" refused a ticket (from ${client.ip})`);
      return { refused: IdentityReason.ticketRefused, outcome: "bad_credentials" };
    }
    return { subject };
  }

  /** Finds or makes the identity's account, then claims it for the client as a password login does. */
  private async loginIdentity(client: ClientInterfacer, identity: Identity, color: number): Promise<Account | undefined> {
    const { store, stats } = this.deps;
    const change = client.stateChanges;
    let found: { account: Account | undefined; created: boolean } | "limited" | typeof BUSY;
    try {
      found = await this.alone(client, async () => {
        const known = await store.findIdentity(identity);
        if (known) return { account: known, created: false };
        if (!this.mayRegister(client.ipBudget)) return "limited" as const;
        const made = await this.createIdentityAccount(identity, color);
        // Another login of the same identity made it meanwhile: that account.
        return { account: made ?? (await store.findIdentity(identity)), created: made !== undefined };
      });
    } catch (err) {
      client.log.error(`A ${identity.provider} login failed: ${errorText(err)}`);
      return this.refuseIdentity(client, IdentityReason.failed, "failed");
    }
    if (found === BUSY) return undefined;
    if (found === "limited") {
      client.log.info(`A new ${identity.provider} account refused: over ${this.deps.limits.registerPerMinute} registrations a minute from ${client.ip}`);
      return this.refuseIdentity(client, Reason.registerLimited, "throttled");
    }
    const { account, created } = found;
    if (client.stateChanges !== change) return undefined;
    if (!account) return this.refuseIdentity(client, IdentityReason.failed, "failed");
    if (created) stats.registration("ok");
    const banned = await this.banned(client, account);
    if (banned !== undefined) return this.refuseIdentity(client, banned, "bad_credentials");
    if (client.stateChanges !== change) return undefined;
    this.deps.endHeldSession?.(account.userId);
    if (!this.sessions.claim(account.userId) || !(await this.claimShared(client, account.userId))) {
      return this.refuseIdentity(client, Reason.alreadyLoggedIn, "already_logged_in");
    }
    if (client.stateChanges !== change) {
      this.release(account.userId);
      return undefined;
    }
    client.account = account;
    stats.login("ok");
    client.log.info(`${created ? "New account" : "Account"} ${account.userId} (${quote(account.name)}) logged in through ${identity.provider}`);
    client.socketSend({ $case: "identityResponse", value: { ok: true, reason: "", userId: account.userId, displayName: account.name, created } });
    this.deps.loggedIn?.(client, account);
    return account;
  }

  /**
   * A new account for the identity, its username one that no registration can take; undefined when a
   * login of the same identity made it meanwhile (on this node or another).
   */
  private async createIdentityAccount(identity: Identity, color: number): Promise<Account | undefined> {
    for (let attempt = 0; ; attempt++) {
      const username = `${RESERVED_USERNAME_PREFIX}${identity.provider}-${Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString("hex")}`;
      try {
        return await this.deps.store.createIdentityAccount(identity, username, randomName(), color);
      } catch (err) {
        if (err instanceof IdentityExistsError) return undefined;
        // 96 random bits taken already: only by a name registered before "#" was reserved; another draw.
        if (err instanceof UserExistsError && attempt < 3) continue;
        throw err;
      }
    }
  }

  private refuseIdentity(client: ClientInterfacer, reason: string, outcome: LoginOutcome): undefined {
    this.deps.stats.login(outcome);
    client.socketSend({ $case: "identityResponse", value: { ok: false, reason, userId: 0, displayName: "", created: false } });
    return undefined;
  }

  /** The framework's account messages, in any state: true when `msg` was one (it is answered here). */
  handle(client: ClientInterfacer, msg: Msg): boolean {
    switch (msg.$case) {
      case "linkPasswordRequest":
        void this.linkPassword(client, msg.value);
        return true;
      case "linkDeviceRequest":
        void this.changeDevice(client, msg.value.deviceId, true);
        return true;
      case "unlinkDeviceRequest":
        void this.changeDevice(client, msg.value.deviceId, false);
        return true;
      case "displayNameRequest":
        void this.rename(client, msg.value.name);
        return true;
      case "linkProviderRequest":
        void this.linkProvider(client, msg.value.provider, msg.value.ticket);
        return true;
      default:
        return false;
    }
  }

  /** Gives the client's account (one without a password) a username and a password. */
  private async linkPassword(client: ClientInterfacer, { username, password }: LinkPasswordRequestMessage): Promise<void> {
    const account = this.accountOf(client);
    if (!account) return this.answerAccount(client, AccountReason.loginFirst);
    if (account.passwordHash !== "") return this.answerAccount(client, AccountReason.hasPassword);
    const problem = usernameProblem(username) ?? passwordProblem(password, this.deps.limits.minPasswordLength);
    if (problem) return this.answerAccount(client, problem);
    try {
      const hash = await this.exclusive(client, async () => {
        if (await this.deps.store.findAccount(username)) throw new UserExistsError(username);
        return hashPassword(password);
      });
      if (hash === undefined) return;
      if (!(await this.deps.store.setCredentials(account.userId, username, hash))) return this.answerAccount(client, AccountReason.hasPassword);
      account.passwordHash = hash;
      client.log.info(`Account ${account.userId} (${quote(account.name)}) linked the username ${quote(username.toLowerCase())} and a password`);
      this.answerAccount(client);
    } catch (err) {
      if (err instanceof UserExistsError) return this.answerAccount(client, Reason.userExists);
      if (err instanceof QueueFullError) return this.answerAccount(client, Reason.busy);
      client.log.error(`Linking a password to account ${account.userId} failed: ${errorText(err)}`);
      this.answerAccount(client, AccountReason.failed);
    }
  }

  /** Links a device to the client's account (`link`), or unlinks one from it. */
  private async changeDevice(client: ClientInterfacer, deviceId: string, link: boolean): Promise<void> {
    const account = this.accountOf(client);
    if (!account) return this.answerAccount(client, AccountReason.loginFirst);
    if (!validDeviceId(deviceId)) return this.answerAccount(client, IdentityReason.deviceId);
    const identity = { provider: DEVICE_PROVIDER, subject: deviceId };
    try {
      if (link) {
        await this.deps.store.linkIdentity(account.userId, identity);
      } else {
        const done = await this.deps.store.unlinkIdentity(account.userId, identity);
        if (done !== "ok") return this.answerAccount(client, done === "last" ? AccountReason.lastWayIn : AccountReason.notLinked);
      }
      client.log.info(`Account ${account.userId} (${quote(account.name)}) ${link ? "linked" : "unlinked"} a device`);
      this.answerAccount(client);
    } catch (err) {
      if (err instanceof IdentityExistsError) return this.answerAccount(client, AccountReason.deviceTaken);
      client.log.error(`${link ? "Linking" : "Unlinking"} a device of account ${account.userId} failed: ${errorText(err)}`);
      this.answerAccount(client, AccountReason.failed);
    }
  }

  /** Links the player's id at a provider (its check of the ticket names it) to the client's account. */
  private async linkProvider(client: ClientInterfacer, provider: string, ticket: string): Promise<void> {
    const account = this.accountOf(client);
    if (!account) return this.answerAccount(client, AccountReason.loginFirst);
    const checked = await this.checkTicket(client, provider, ticket);
    if (checked === undefined) return;
    if ("refused" in checked) return this.answerAccount(client, checked.refused);
    try {
      await this.deps.store.linkIdentity(account.userId, { provider, subject: checked.subject });
    } catch (err) {
      if (err instanceof IdentityExistsError) return this.answerAccount(client, AccountReason.providerTaken);
      client.log.error(`Linking a ${provider} id to account ${account.userId} failed: ${errorText(err)}`);
      return this.answerAccount(client, AccountReason.failed);
    }
    client.log.info(`Account ${account.userId} (${quote(account.name)}) linked a ${provider} id`);
    this.answerAccount(client);
  }

  /** A new display name for the client's account: its player, and its records on the boards. */
  private async rename(client: ClientInterfacer, name: string): Promise<void> {
    const account = this.accountOf(client);
    if (!account) return this.answerAccount(client, AccountReason.loginFirst);
    const problem = displayNameProblem(name);
    if (problem) return this.answerAccount(client, problem);
    try {
      await this.deps.store.setDisplayName(account.playerId, name);
    } catch (err) {
      client.log.error(`Renaming account ${account.userId} failed: ${errorText(err)}`);
      return this.answerAccount(client, AccountReason.failed);
    }
    client.log.info(`Account ${account.userId} renamed ${quote(account.name)} to ${quote(name)}`);
    account.name = name;
    await this.deps.renamed?.(account.userId, name);
    this.answerAccount(client);
  }

  /**
   * The account's ban as the client is told it, or undefined (its mute, if any, then kept on the
   * account); a store that cannot say lets the login through (logged).
   */
  private async banned(client: ClientInterfacer, account: Account): Promise<string | undefined> {
    try {
      const refusal = await this.deps.refusal?.(account.userId);
      if (refusal !== undefined) client.log.info(`Login of account ${account.userId} refused: ${refusal}`);
      else account.mute = await this.deps.muteOf?.(account.userId);
      return refusal;
    } catch (err) {
      client.log.error(`Could not read whether account ${account.userId} is banned or muted (${errorText(err)}); let in`);
      return undefined;
    }
  }

  /** account_response: ok, or the reason of a refusal. */
  private answerAccount(client: ClientInterfacer, refusal?: string): void {
    client.socketSend({ $case: "accountResponse", value: { ok: refusal === undefined, reason: refusal ?? "" } });
  }

  /** Ends the client's session, if it has one (back in the lobby, or gone). */
  logout(client: ClientInterfacer): void {
    const account = this.accountOf(client);
    if (!account) return;
    client.account = undefined;
    client.forgetSession();
    this.release(account.userId);
    this.deps.loggedOut?.(client, account);
  }

  /** A client restored from a restart, still logged in: its account is claimed again for it. */
  restoreSession(client: ClientInterfacer, account: Account): void {
    this.sessions.claim(account.userId);
    client.account = account;
    this.deps.loggedIn?.(client, account);
  }

  /** The client's session moved to another node: this node forgets the account's claim (the cluster's key moves with it). */
  releaseLocally(client: ClientInterfacer): void {
    const account = this.accountOf(client);
    if (!account) return;
    client.account = undefined;
    this.sessions.release(account.userId);
    this.deps.moved?.(client, account);
  }

  /** Another node's failed login, for this node's throttle. */
  failedElsewhere(username: string, ip: string): void {
    this.throttle.recordFailure(username, ip, this.deps.now());
  }

  succeededElsewhere(username: string): void {
    this.throttle.recordSuccess(username);
  }

  private release(userId: number): void {
    this.sessions.release(userId);
    this.deps.shared?.release(userId);
  }

  /** Claims the session across the cluster (the local claim made); true without a cluster, or without Redis. */
  private async claimShared(client: ClientInterfacer, userId: number): Promise<boolean> {
    const { shared } = this.deps;
    if (!shared) return true;
    try {
      if (await shared.claim(userId)) return true;
    } catch (err) {
      client.log.warn(`The cluster could not be asked whether account ${userId} is logged in elsewhere (${errorText(err)}); checked on this node only`);
      return true;
    }
    this.sessions.release(userId);
    return false;
  }

  /** Forgets throttle windows that can no longer block anyone, and registration budgets refilled. */
  prune(): void {
    const now = this.deps.now();
    this.throttle.prune(now);
    for (const [ip, bucket] of this.registrations) if (bucket.full(now)) this.registrations.delete(ip);
  }

  /** Takes one registration from the address's budget; false when it is spent. */
  private mayRegister(ip: string): boolean {
    const { registerBurst, registerPerMinute } = this.deps.limits;
    const now = this.deps.now();
    let bucket = this.registrations.get(ip);
    if (!bucket) this.registrations.set(ip, (bucket = new TokenBucket(registerPerMinute / 60, registerBurst, now)));
    return bucket.take(now);
  }

  /**
   * Runs one hashing task per client at a time, in the hash queue; undefined when one was already
   * running; rejects with QueueFullError when the queue is full.
   */
  private async exclusive<T>(client: ClientInterfacer, task: () => Promise<T>): Promise<T | undefined> {
    const done = await this.alone(client, () => this.hashQueue.run(client.ipBudget, task));
    return done === BUSY ? undefined : done;
  }

  /** Runs `task` as the client's one login or registration in progress; BUSY (and a log line) when another is. */
  private async alone<T>(client: ClientInterfacer, task: () => Promise<T>): Promise<T | typeof BUSY> {
    if (this.busy.has(client.id)) {
      client.log.info("Ignored a login or registration while another is in progress");
      return BUSY;
    }
    this.busy.add(client.id);
    try {
      return await task();
    } finally {
      this.busy.delete(client.id);
    }
  }
}
