// The first state of every connection: the lobby. The client learns its id here and may chat with the
// other clients in the lobby.
import type { ClientInterfacer, ClientState } from "../hub/client.ts";
import { LOBBY } from "../hub/topics.ts";
import { newId, type Msg } from "../packets/index.ts";

export class Connected implements ClientState {
  readonly name = "Connected";
  private client!: ClientInterfacer;

  setClient(client: ClientInterfacer): void {
    this.client = client;
  }

  onEnter(): void {
    this.client.subscribe(LOBBY);
    this.client.socketSend(newId(this.client.id));
  }

  handleMessage(senderId: number, msg: Msg): void {
    if (senderId !== this.client.id) {
      this.client.socketSendAs(msg, senderId);
      return;
    }
    switch (msg.$case) {
      case "chat":
        this.client.broadcast(msg, LOBBY);
        break;
      default:
        this.client.log.debug(`Ignored a ${msg.$case} packet in state ${this.name}`);
    }
  }

  onExit(): void {
    this.client.unsubscribe(LOBBY);
  }
}
