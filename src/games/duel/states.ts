// A duelist's states beyond the lobby: Ready (logged in, may ask for a match) and InMatch.
import type { ClientInterfacer } from "../../hub/client.ts";
import { defineState } from "../../hub/states.ts";
import { newDenyResponse, newDisconnect, newOkResponse } from "../../packets/index.ts";
import { errorText } from "../../log.ts";
import type { Rooms } from "../../rooms/rooms.ts";
import type { Leaderboard } from "../../store/leaderboards.ts";
import type { Collection } from "../../store/storage.ts";
import type { Account } from "../../store/store.ts";
import { DUEL_ROOM, type DuelRoom } from "./duel-room.ts";
import { EMPTY_RECORD, RECORD_KEY, type DuelRecord } from "./records.ts";

/** How many of the wins board a client gets. */
export const BOARD_SIZE = 10;
export const RECORD_FAILED = "Failed to get your record - please try again later";

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

export function readyState(matchmaker: Matchmaker, records: Collection<DuelRecord>, wins: Leaderboard) {
  return defineState({
    handleMessage: {
      matchRequest(client) {
        matchmaker.request(client);
      },
      async duelRecordRequest(client) {
        const { userId } = client.account as Account;
        try {
          const record = (await records.get(RECORD_KEY, userId))?.value ?? EMPTY_RECORD;
          client.socketSend({ $case: "duelRecord", value: record });
        } catch (err) {
          client.log.error(`Reading the record of account ${userId} failed: ${errorText(err)}`);
          client.socketSend(newDenyResponse(RECORD_FAILED));
        }
      },
      duelBoardRequest(client) {
        const entries = wins.top(BOARD_SIZE).map(({ rank, name, score }) => ({ rank, name, score }));
        client.socketSend({ $case: "duelBoard", value: { entries } });
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
      const { name, userId } = client.account as Account;
      rooms.join(client, matchId, { name, userId });
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
