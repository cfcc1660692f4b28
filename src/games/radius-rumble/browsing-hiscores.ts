// The hiscore board: the top 10 on entering, a search centred on a player, then back to the lobby.
import type { ClientInterfacer, ClientState } from "../../hub/client.ts";
import { errorText } from "../../log.ts";
import { newDenyResponse, type Msg } from "../../packets/index.ts";
import { Reason } from "../../accounts/rules.ts";
import { Connected } from "../../accounts/lobby.ts";
import type { Services } from "./services.ts";

const BOARD_SIZE = 10;
/** A searched player is shown as the 5th entry of the board, where the board allows. */
const ENTRIES_ABOVE = 5;

export class BrowsingHiscores implements ClientState {
  readonly name = "BrowsingHiscores";
  private client!: ClientInterfacer;

  constructor(private readonly services: Services) {}

  setClient(client: ClientInterfacer): void {
    this.client = client;
  }

  onEnter(): void {
    this.sendBoard(0);
  }

  handleMessage(senderId: number, msg: Msg): void {
    if (senderId !== this.client.id) return;
    switch (msg.$case) {
      case "searchHiscore":
        this.search(msg.value.name);
        return;
      case "finishedBrowsingHiscores":
        this.client.setState(new Connected(this.services));
        return;
      default:
        this.client.log.debug(`Ignored a ${msg.$case} packet in state ${this.name}`);
    }
  }

  onExit(): void {}

  private search(name: string): void {
    let rank: number | undefined;
    try {
      rank = this.services.store.rankOf(name);
    } catch (err) {
      this.client.log.error(`Hiscore search for "${name}" failed: ${errorText(err)}`);
      this.client.socketSend(newDenyResponse(Reason.unranked));
      return;
    }
    if (rank === undefined) {
      this.client.socketSend(newDenyResponse(Reason.noSuchPlayer));
      return;
    }
    this.sendBoard(Math.max(0, rank - ENTRIES_ABOVE));
  }

  private sendBoard(offset: number): void {
    try {
      const hiscores = this.services.store.hiscores(offset, BOARD_SIZE);
      this.client.socketSend({ $case: "hiscoreBoard", value: { hiscores } });
    } catch (err) {
      this.client.log.error(`Reading the hiscores failed: ${errorText(err)}`);
      this.client.socketSend(newDenyResponse(Reason.hiscoresFailed));
    }
  }
}
