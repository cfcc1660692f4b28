// A duelist's states beyond the lobby: Ready (logged in, may ask for a match) and InMatch.
import type { ClientInterfacer } from "../../hub/client.ts";
import { defineState } from "../../hub/states.ts";
import { newDisconnect, newOkResponse } from "../../packets/index.ts";
import type { Rooms } from "../../rooms/rooms.ts";
import type { Account } from "../../store/store.ts";
import { DUEL_ROOM, type DuelRoom } from "./duel-room.ts";

export const LEFT_REASON = "Client disconnected";

/** Pairs players in the order they ask: the first waits, the second starts a match with it. */
export class Matchmaker {
  waiting: ClientInterfacer | undefined;

  constructor(private readonly rooms: Rooms) {}

  /** The first asker gets ok_response and waits; the second starts a match with it. */
  request(client: ClientInterfacer): void {
    const opponent = this.waiting;
    if (!opponent || opponent === client) {
      this.waiting = client;
      client.socketSend(newOkResponse());
      return;
    }
    this.waiting = undefined;
    const { matchId } = this.rooms.create<DuelRoom>(DUEL_ROOM);
    opponent.setState("InMatch", matchId);
    client.setState("InMatch", matchId);
  }

  /** Leaving Ready (a match, a logout, a close) takes the client out of the queue. */
  cancel(client: ClientInterfacer): void {
    if (this.waiting === client) this.waiting = undefined;
  }
}

export function readyState(matchmaker: Matchmaker) {
  return defineState({
    handleMessage: {
      matchRequest(client) {
        matchmaker.request(client);
      },
      disconnect(client) {
        client.setState("Connected");
      },
    },
    onExit(client) {
      matchmaker.cancel(client);
    },
  });
}

/** The client's own disconnect, told to its opponent if it leaves mid-match; else LEFT_REASON. */
export function inMatchState(rooms: Rooms) {
  return defineState<undefined, string>({
    onEnter(client, matchId) {
      rooms.join(client, matchId, { name: (client.account as Account).name });
    },
    handleMessage: {
      chat(client, chat) {
        rooms.broadcastFrom(client, { $case: "chat", value: chat });
      },
    },
    onExit(client) {
      rooms.leave(client, client.open ? undefined : newDisconnect(LEFT_REASON));
    },
  });
}
