// A duelist's states beyond the lobby: Ready (logged in, may ask for a match) and InMatch.
import { defineState } from "../../hub/states.ts";
import { newDenyResponse, newDisconnect, newOkResponse } from "../../packets/index.ts";
import { errorText } from "../../log.ts";
import type { Players } from "../../players/players.ts";
import type { Matches } from "../../rooms/matches.ts";
import type { Rooms } from "../../rooms/rooms.ts";
import type { Leaderboard } from "../../store/leaderboards.ts";
import type { Collection } from "../../store/storage.ts";
import type { DuelRoom } from "./duel-room.ts";
import { EMPTY_RECORD, RECORD_KEY, type DuelRecord } from "./records.ts";

/** How many of the wins board a client gets. */
export const BOARD_SIZE = 10;
export const RECORD_FAILED = "Failed to get your record - please try again later";

export const LEFT_REASON = "Client disconnected";

/** The queue of players who asked for a match (on a server alone, or across every node of a cluster). */
export const DUEL_QUEUE = "duel";

export function readyState(matches: Matches, players: Players, records: Collection<DuelRecord>, wins: Leaderboard) {
  return defineState({
    handleMessage: {
      /**
       * ok_response, then match_start once another player (on any node) asks too; a player in a party
       * of two duels its party member (a friendly duel: their party is one entry of the queue).
       */
      async matchRequest(client) {
        client.socketSend(newOkResponse());
        const party = await players.partyOf(client.account!.userId);
        if (party?.members.length === 2 && !(await players.queueParty(client, DUEL_QUEUE)).refused) return;
        matches.ask(DUEL_QUEUE, client);
      },
      async duelRecordRequest(client) {
        const { userId } = client.account!;
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
      matches.cancel(client);
    },
  });
}

/** The client's own disconnect, told to its opponent if it leaves mid-match; else LEFT_REASON. */
export function inMatchState(rooms: Rooms) {
  return defineState<undefined, string>({
    onEnter(client, matchId) {
      const { name, userId } = client.account!;
      rooms.join<DuelRoom>(client, matchId, { name, userId });
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
