// The first state of every connection: the lobby. The client learns its id here, chats with the other
// clients in the lobby, registers, logs in (→ InGame) or asks for the hiscores (→ BrowsingHiscores).
import type { ClientInterfacer, ClientState } from "../hub/client.ts";
import { LOBBY } from "../hub/topics.ts";
import { errorText } from "../log.ts";
import {
  newDenyResponse,
  newId,
  newOkResponse,
  type LoginRequestMessage,
  type Msg,
  type RegisterRequestMessage,
} from "../packets/index.ts";
import { passwordProblem, Reason, usernameProblem } from "./rules.ts";
import { hashPassword, MAX_PASSWORD_BYTES, verifyPassword } from "./passwords.ts";
import { UserExistsError } from "../store/store.ts";
import { BrowsingHiscores } from "../games/radius-rumble/browsing-hiscores.ts";
import { InGame } from "../games/radius-rumble/in-game.ts";
import type { Services } from "../games/radius-rumble/services.ts";

export class Connected implements ClientState {
  readonly name = "Connected";
  private client!: ClientInterfacer;
  private active = false;
  /** A login or registration is being hashed; another one meanwhile is ignored (and logged). */
  private busy = false;

  constructor(private readonly services: Services) {}

  setClient(client: ClientInterfacer): void {
    this.client = client;
  }

  onEnter(): void {
    this.active = true;
    this.client.subscribe(LOBBY);
    this.client.socketSend(newId(this.client.id));
  }

  handleMessage(senderId: number, msg: Msg): void | Promise<void> {
    if (senderId !== this.client.id) {
      this.client.socketSendAs(msg, senderId);
      return;
    }
    switch (msg.$case) {
      case "chat":
        this.client.broadcast(msg, LOBBY);
        return;
      case "loginRequest":
        return this.exclusive(() => this.login(msg.value));
      case "registerRequest":
        return this.exclusive(() => this.register(msg.value));
      case "hiscoreBoardRequest":
        this.client.setState(new BrowsingHiscores(this.services));
        return;
      default:
        this.client.log.debug(`Ignored a ${msg.$case} packet in state ${this.name}`);
    }
  }

  onExit(): void {
    this.active = false;
    this.client.unsubscribe(LOBBY);
  }

  private async exclusive(task: () => Promise<void>): Promise<void> {
    if (this.busy) {
      this.client.log.info("Ignored a login or registration while another is in progress");
      return;
    }
    this.busy = true;
    try {
      await task();
    } finally {
      this.busy = false;
    }
  }

  private deny(reason: string): void {
    this.client.socketSend(newDenyResponse(reason));
  }

  private async login({ username, password }: LoginRequestMessage): Promise<void> {
    const { store, throttle, sessions, stats } = this.services;
    const { ip, log } = this.client;
    if (throttle.isBlocked(username, ip, this.services.now())) {
      stats.login("throttled");
      log.info(`Login for "${username}" refused: too many failed attempts`);
      this.deny(Reason.badLogin);
      return;
    }
    const account = Buffer.byteLength(password) <= MAX_PASSWORD_BYTES ? store.findAccount(username) : undefined;
    const valid = await verifyPassword(password, account?.passwordHash);
    if (!this.active) return;
    if (!valid || !account) {
      throttle.recordFailure(username, ip, this.services.now());
      stats.login("bad_credentials");
      log.info(`Failed login for "${username}"`);
      this.deny(Reason.badLogin);
      return;
    }
    throttle.recordSuccess(username);
    if (!sessions.claim(account.userId)) {
      stats.login("already_logged_in");
      log.info(`Login for "${username}" refused: the account is already in the world`);
      this.deny(Reason.alreadyLoggedIn);
      return;
    }
    stats.login("ok");
    log.info(`User ${username} logged in`);
    this.client.socketSend(newOkResponse());
    this.client.setState(new InGame(this.services, account));
  }

  private async register({ username, password, color }: RegisterRequestMessage): Promise<void> {
    const { store, stats } = this.services;
    const problem = usernameProblem(username) ?? passwordProblem(password);
    if (problem) {
      stats.registration("invalid");
      this.deny(problem);
      return;
    }
    if (store.findAccount(username)) {
      stats.registration("exists");
      this.deny(Reason.userExists);
      return;
    }
    try {
      const hash = await hashPassword(password);
      if (!this.active) return;
      store.createAccount(username, hash, color);
    } catch (err) {
      if (err instanceof UserExistsError) {
        stats.registration("exists");
        this.deny(Reason.userExists);
        return;
      }
      this.client.log.error(`Failed to register "${username}": ${errorText(err)}`);
      stats.registration("failed");
      this.deny(Reason.registerFailed);
      return;
    }
    stats.registration("ok");
    this.client.log.info(`User ${username.toLowerCase()} registered`);
    this.client.socketSend(newOkResponse());
  }
}
