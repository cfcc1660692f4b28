// Registration and login, as the series' client expects them, with what the series lacked: hashing
// off the event loop in a bounded queue fair between addresses, throttled failures, registrations
// limited per address, and one session per account.
import type { ClientInterfacer } from "../hub/client.ts";
import { TokenBucket } from "../hub/rate.ts";
import type { Stats } from "../hub/stats.ts";
import { errorText, quote } from "../log.ts";
import { newDenyResponse, newOkResponse, type LoginRequestMessage, type RegisterRequestMessage } from "../packets/index.ts";
import { UserExistsError, type Account, type Store } from "../store/store.ts";
import { DEFAULT_HASH_QUEUE, HashQueue, QueueFullError, type HashQueueLimits } from "./hash-queue.ts";
import { hashPassword, MAX_PASSWORD_BYTES, verifyPassword } from "./passwords.ts";
import { MAX_USERNAME_BYTES, passwordProblem, Reason, usernameProblem } from "./rules.ts";
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

export class Accounts {
  readonly throttle = new LoginThrottle();
  readonly sessions = new Sessions();
  /** Clients whose login or registration is being hashed; another one meanwhile is ignored. */
  private readonly busy = new Set<number>();
  readonly hashQueue: HashQueue;
  /** Registrations per address: a burst, then a steady rate. */
  private readonly registrations = new Map<string, TokenBucket>();

  constructor(private readonly deps: AccountsDeps) {
    this.hashQueue = new HashQueue(deps.hashQueue ?? DEFAULT_HASH_QUEUE);
  }

  /** The account logged in on this client, if any. */
  accountOf(client: ClientInterfacer): Account | undefined {
    return client.account as Account | undefined;
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

  /** Ends the client's session, if it has one (back in the lobby, or gone). */
  logout(client: ClientInterfacer): void {
    const account = this.accountOf(client);
    if (!account) return;
    client.account = undefined;
    client.forgetSession();
    this.release(account.userId);
  }

  /** A client restored from a restart, still logged in: its account is claimed again for it. */
  restoreSession(client: ClientInterfacer, account: Account): void {
    this.sessions.claim(account.userId);
    client.account = account;
  }

  /** The client's session moved to another node: this node forgets the account's claim (the cluster's key moves with it). */
  releaseLocally(client: ClientInterfacer): void {
    const account = this.accountOf(client);
    if (!account) return;
    client.account = undefined;
    this.sessions.release(account.userId);
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
    if (this.busy.has(client.id)) {
      client.log.info("Ignored a login or registration while another is in progress");
      return undefined;
    }
    this.busy.add(client.id);
    try {
      return await this.hashQueue.run(client.ipBudget, task);
    } finally {
      this.busy.delete(client.id);
    }
  }
}
