// In the world: chat with the other players, and leave by logging out (back to the lobby) or by
// closing. Every other client in the world hears of a leave exactly once.
import type { ClientInterfacer, ClientState } from "../../hub/client.ts";
import { WORLD } from "../../hub/topics.ts";
import { errorText } from "../../log.ts";
import { newDisconnect, type Msg } from "../../packets/index.ts";
import type { Account } from "../../store/store.ts";
import { Connected } from "../../accounts/lobby.ts";
import type { Services } from "./services.ts";

export const LEFT_REASON = "Client disconnected";

export class InGame implements ClientState {
  readonly name = "InGame";
  private client!: ClientInterfacer;
  /** The client's own disconnect (its logout), told to the world on exit; else LEFT_REASON. */
  private farewell: Msg | undefined;

  constructor(
    private readonly services: Services,
    readonly account: Account,
  ) {}

  setClient(client: ClientInterfacer): void {
    this.client = client;
  }

  onEnter(): void {
    this.client.subscribe(WORLD);
    const { name, color, bestScore, playerId } = this.account;
    this.services.world.join(this.client.id, { name, color, bestScore, scoreKey: playerId });
  }

  handleMessage(senderId: number, msg: Msg): void {
    if (senderId !== this.client.id) {
      this.client.socketSendAs(msg, senderId);
      return;
    }
    switch (msg.$case) {
      case "playerDirection":
        this.services.world.setDirection(this.client.id, msg.value.direction);
        return;
      case "sporeConsumed":
        this.services.world.consumeSpore(this.client.id, msg.value.sporeId);
        return;
      case "playerConsumed":
        this.services.world.consumePlayer(this.client.id, msg.value.playerId);
        return;
      case "chat":
        this.client.broadcast(msg, WORLD);
        return;
      case "disconnect":
        this.farewell = msg;
        this.client.setState(new Connected(this.services));
        return;
      default:
        this.client.log.debug(`Ignored a ${msg.$case} packet in state ${this.name}`);
    }
  }

  onExit(): void {
    const player = this.services.world.leave(this.client.id);
    if (player) this.saveBestScore(player.bestScore);
    this.client.unsubscribe(WORLD);
    this.client.broadcast(this.farewell ?? newDisconnect(LEFT_REASON), WORLD);
    this.services.sessions.release(this.account.userId);
  }

  private saveBestScore(score: number): void {
    try {
      this.services.store.saveBestScores([[this.account.playerId, score]]);
    } catch (err) {
      this.client.log.error(`Saving the best score ${score} failed: ${errorText(err)}`);
    }
  }
}
