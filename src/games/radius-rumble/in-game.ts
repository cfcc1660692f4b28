// In the world: the room takes the player's moves and claims; the state takes chat (to the other
// players) and the logout. Every other client in the world hears of a leave exactly once.
import { defineState } from "../../hub/states.ts";
import { newDisconnect, type Msg } from "../../packets/index.ts";
import type { Rooms } from "../../rooms/rooms.ts";
import type { Leaderboard } from "../../store/leaderboards.ts";
import type { Account } from "../../store/store.ts";
import { LEFT_REASON, WORLD_ROOM, type WorldRoom } from "./world-room.ts";

/** The client's own disconnect (its logout), told to the world when it leaves; else LEFT_REASON. */
interface InGameData {
  farewell: Msg | undefined;
}

export function inGameState(rooms: Rooms, hiscores: Leaderboard) {
  return defineState<InGameData, Account>({
    onEnter(client, { name, color, userId }) {
      rooms.join<WorldRoom>(client, WORLD_ROOM, { name, color, bestScore: hiscores.recordOf(userId)?.score ?? 0, scoreKey: userId });
      return { farewell: undefined };
    },
    handleMessage: {
      chat(client, chat) {
        rooms.broadcastFrom(client, { $case: "chat", value: chat });
      },
      disconnect(client, disconnect, data) {
        data.farewell = { $case: "disconnect", value: disconnect };
        client.setState("Connected");
      },
    },
    onExit(client, data) {
      rooms.leave(client, data.farewell ?? newDisconnect(LEFT_REASON));
    },
  });
}
