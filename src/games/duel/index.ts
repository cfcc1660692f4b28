// Duel: a small second game that proves the Game/Room API. Log in from the series' lobby, ask for a
// match, and play rock-paper-scissors against the next player who asks; many matches run at once.
// Each player's record is kept in storage, and winners climb the wins leaderboard.
import { lobbyState } from "../../accounts/lobby.ts";
import { defineGame } from "../../rooms/game.ts";
import { DUEL_ROOM, DuelRoom } from "./duel-room.ts";
import { RECORDS, WINS_BOARD, type DuelRecord } from "./records.ts";
import { DUEL_QUEUE, inMatchState, readyState } from "./states.ts";

export const duel = defineGame({
  name: "duel",
  description: "an example: rock-paper-scissors matches of two, many at once",
  create({ rooms, matches: queues, accounts, players, storage, leaderboards, metrics }) {
    // Two players a match, whichever node each asked on; the room runs on one of them. A party member
    // pulled into a friendly duel while not Ready (already in a match, or gone to the lobby) stays out.
    queues.define(DUEL_QUEUE, {
      type: DUEL_ROOM,
      size: 2,
      onMatched(client, room) {
        if (client.stateName === "Ready") client.setState("InMatch", room);
      },
    });
    const records = storage.collection<DuelRecord>(RECORDS);
    const wins = leaderboards.define({ id: WINS_BOARD, order: "desc", operator: "increment" });
    const matches = () => [...rooms.ofType<DuelRoom>(DUEL_ROOM)].length;
    metrics.gauge("mmo_duel_matches", "Duels being played", matches);
    return {
      states: {
        initial: "Connected",
        states: {
          Connected: lobbyState(accounts, { afterLogin: (client) => client.setState("Ready") }),
          Ready: readyState(queues, players, records, wins),
          InMatch: inMatchState(rooms),
        },
        transitions: {
          Connected: ["Ready"],
          Ready: ["InMatch", "Connected"],
          InMatch: ["Ready"],
        },
      },
      rooms: { [DUEL_ROOM]: (ctx) => new DuelRoom(ctx, records, wins) },
      health: () => ({ matches: matches(), waiting: queues.waitingHere }),
      dashboard: () => ({ tiles: { Matches: matches(), Waiting: queues.waitingHere } }),
    };
  },
});
