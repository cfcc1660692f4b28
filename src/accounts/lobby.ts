// The series' first state, Connected: the lobby. The client learns its id here, chats with the other
// clients in the lobby, registers and logs in. A game makes its own from this one, saying where a
// login leads and which of its own messages the lobby also takes.
import type { ClientInterfacer } from "../hub/client.ts";
import { defineState, type ClientState, type Handlers } from "../hub/states.ts";
import { newId } from "../packets/index.ts";
import type { Account } from "../store/store.ts";
import type { Accounts } from "./accounts.ts";

export const LOBBY_TOPIC = "lobby";

export interface LobbyOptions {
  /** After a successful login (ok_response already sent): usually `client.setState("InGame", account)`. */
  afterLogin(client: ClientInterfacer, account: Account): void;
  /** After a successful registration (committed, ok_response sent): a game's first records for the account (not called for an account a device or custom login made). */
  afterRegister?(account: Account): void;
  /** The game's own messages the lobby takes (the series' hiscore_board_request). */
  handlers?: Handlers<undefined>;
}

/** Entering the lobby ends any session the client had: being back here is being logged out. */
export function lobbyState(accounts: Accounts, options: LobbyOptions): ClientState {
  return defineState({
    onEnter(client) {
      accounts.logout(client);
      client.subscribe(LOBBY_TOPIC);
      client.socketSend(newId(client.id));
    },
    handleMessage: {
      ...options.handlers,
      chat(client, chat) {
        client.broadcast({ $case: "chat", value: chat }, LOBBY_TOPIC);
      },
      async loginRequest(client, request) {
        const account = await accounts.login(client, request);
        if (account) options.afterLogin(client, account);
      },
      async registerRequest(client, request) {
        const account = await accounts.register(client, request);
        if (account) options.afterRegister?.(account);
      },
      async deviceLoginRequest(client, request) {
        const account = await accounts.loginDevice(client, request);
        if (account) options.afterLogin(client, account);
      },
      async customLoginRequest(client, request) {
        const account = await accounts.loginCustom(client, request);
        if (account) options.afterLogin(client, account);
      },
    },
    onExit(client) {
      client.unsubscribe(LOBBY_TOPIC);
    },
  });
}
