// The hiscore board: the top 10 on entering, a search centred on a player, then back to the lobby.
// The board is the game's "hiscores" leaderboard, in memory (O(log n) a search), and each client has
// its own budget of searches.
import { Reason } from "../../accounts/rules.ts";
import type { ClientInterfacer } from "../../hub/client.ts";
import { TokenBucket } from "../../rate.ts";
import { defineState } from "../../hub/states.ts";
import { newDenyResponse } from "../../packets/index.ts";
import type { Leaderboard } from "../../store/leaderboards.ts";

const BOARD_SIZE = 10;
/** A searched player is shown as the 5th entry of the board, where the board allows. */
const ENTRIES_ABOVE = 5;
/** Boards a client may ask for: more than a person can read, far less than the message rate allows. */
export const SEARCHES_PER_SECOND = 10;
export const SEARCH_BURST = 20;

export function browsingHiscoresState(hiscores: Leaderboard) {
  const budgets = new WeakMap<ClientInterfacer, TokenBucket>();
  /** False (and the client told to try again later) when the client is over its budget of boards. */
  const withinBudget = (client: ClientInterfacer): boolean => {
    const now = performance.now();
    let budget = budgets.get(client);
    if (!budget) budgets.set(client, (budget = new TokenBucket(SEARCHES_PER_SECOND, SEARCH_BURST, now)));
    if (budget.take(now)) return true;
    client.log.info(`Hiscore search refused: over ${SEARCHES_PER_SECOND} a second`);
    client.socketSend(newDenyResponse(Reason.hiscoresFailed));
    return false;
  };
  const sendBoard = (client: ClientInterfacer, offset: number): void => {
    const entries = hiscores.top(BOARD_SIZE, offset).map(({ rank, name, score }) => ({ rank, name, score }));
    client.socketSend({ $case: "hiscoreBoard", value: { hiscores: entries } });
  };

  return defineState({
    onEnter(client) {
      if (withinBudget(client)) sendBoard(client, 0);
    },
    handleMessage: {
      searchHiscore(client, { name }) {
        if (!withinBudget(client)) return;
        const rank = hiscores.search(name);
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
