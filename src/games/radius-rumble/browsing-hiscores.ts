// The hiscore board: the top 10 on entering, a search centred on a player, then back to the lobby.
import { Reason } from "../../accounts/rules.ts";
import type { ClientInterfacer } from "../../hub/client.ts";
import { defineState } from "../../hub/states.ts";
import { errorText } from "../../log.ts";
import { newDenyResponse } from "../../packets/index.ts";
import type { Store } from "../../store/store.ts";

const BOARD_SIZE = 10;
/** A searched player is shown as the 5th entry of the board, where the board allows. */
const ENTRIES_ABOVE = 5;

export function browsingHiscoresState(store: Store) {
  const sendBoard = (client: ClientInterfacer, offset: number): void => {
    try {
      const hiscores = store.hiscores(offset, BOARD_SIZE);
      client.socketSend({ $case: "hiscoreBoard", value: { hiscores } });
    } catch (err) {
      client.log.error(`Reading the hiscores failed: ${errorText(err)}`);
      client.socketSend(newDenyResponse(Reason.hiscoresFailed));
    }
  };

  return defineState({
    onEnter(client) {
      sendBoard(client, 0);
    },
    handleMessage: {
      searchHiscore(client, { name }) {
        let rank: number | undefined;
        try {
          rank = store.rankOf(name);
        } catch (err) {
          client.log.error(`Hiscore search for "${name}" failed: ${errorText(err)}`);
          client.socketSend(newDenyResponse(Reason.unranked));
          return;
        }
        if (rank === undefined) {
          client.socketSend(newDenyResponse(Reason.noSuchPlayer));
          return;
        }
        sendBoard(client, Math.max(0, rank - ENTRIES_ABOVE));
      },
      finishedBrowsingHiscores(client) {
        client.setState("Connected");
      },
    },
  });
}
