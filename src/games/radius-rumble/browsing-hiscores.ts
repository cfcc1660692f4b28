// The hiscore board: the top 10 on entering, a search centred on a player, then back to the lobby.
import { Reason } from "../../accounts/rules.ts";
import type { ClientInterfacer } from "../../hub/client.ts";
import { defineState } from "../../hub/states.ts";
import { errorText, quote } from "../../log.ts";
import { newDenyResponse } from "../../packets/index.ts";
import type { Store } from "../../store/store.ts";

const BOARD_SIZE = 10;
/** A searched player is shown as the 5th entry of the board, where the board allows. */
const ENTRIES_ABOVE = 5;

export function browsingHiscoresState(store: Store) {
  /** An answer that arrives after the client left this state is dropped. */
  const answer = (client: ClientInterfacer, change: number, msg: Parameters<ClientInterfacer["socketSend"]>[0]): void => {
    if (client.stateChanges === change) client.socketSend(msg);
  };

  const sendBoard = async (client: ClientInterfacer, offset: number, change = client.stateChanges): Promise<void> => {
    try {
      const hiscores = await store.hiscores(offset, BOARD_SIZE);
      answer(client, change, { $case: "hiscoreBoard", value: { hiscores } });
    } catch (err) {
      client.log.error(`Reading the hiscores failed: ${errorText(err)}`);
      answer(client, change, newDenyResponse(Reason.hiscoresFailed));
    }
  };

  return defineState({
    onEnter(client) {
      void sendBoard(client, 0);
    },
    handleMessage: {
      async searchHiscore(client, { name }) {
        const change = client.stateChanges;
        let rank: number | undefined;
        try {
          rank = await store.rankOf(name);
        } catch (err) {
          client.log.error(`Hiscore search for ${quote(name)} failed: ${errorText(err)}`);
          answer(client, change, newDenyResponse(Reason.unranked));
          return;
        }
        if (rank === undefined) {
          answer(client, change, newDenyResponse(Reason.noSuchPlayer));
          return;
        }
        await sendBoard(client, Math.max(0, rank - ENTRIES_ABOVE), change);
      },
      finishedBrowsingHiscores(client) {
        client.setState("Connected");
      },
    },
  });
}
