// A party moving together: into one room with a seat for each of its online members (or a refusal),
// or into a matchmaking queue as one entry, which a match takes whole. Members on other nodes of a
// cluster are moved by their own nodes, told over the bus (a room then is one shared by the nodes).
import type { ClientInterfacer } from "../hub/client.ts";
import { ANY_NODE } from "../rooms/matches.ts";
import type { PartyMove, PlayersCore } from "./core.ts";

export type { PartyMove } from "./core.ts";

/** The refusals of a party's move, word for word (docs/players.md). */
export const PartyMoveReason = {
  tooBig: (max: number) => `The party does not fit in a room of that type (at most ${max})`,
  tooBigForQueue: (size: number) => `The party does not fit in a match of that queue (${size} players)`,
} as const;

/** Where a moved member goes: by default into the room; a game may set a state that joins it. */
export type PartyRoomHandler = (client: ClientInterfacer, roomId: string) => void;

export class PartyMoves {
  private enter: PartyRoomHandler = (client, roomId) => this.core.deps.rooms.join(client, roomId);

  constructor(private readonly core: PlayersCore) {}

  onPartyRoom(handler: PartyRoomHandler): void {
    this.enter = handler;
  }

  /** The online members of the client's party (the client alone without one): here, and on other nodes by user id. */
  private async members(client: ClientInterfacer): Promise<{ here: ClientInterfacer[]; elsewhere: number[] }> {
    const session = this.core.sessionOf(client);
    if (!session) return { here: [client], elsewhere: [] };
    const party = await this.core.deps.store.social.partyOf(session.account.userId);
    const ids = party ? party.members.map((m) => m.userId) : [session.account.userId];
    const online = await this.core.deps.presence.lookup(ids);
    const here = [client];
    const elsewhere: number[] = [];
    for (const id of ids) {
      if (id === session.account.userId || !online.has(id)) continue;
      const local = this.core.sessions.get(id);
      // A member of this node whose connection is away (its session held) stays where it is.
      if (local) {
        if (local.client.open) here.push(local.client);
      } else elsewhere.push(id);
    }
    return { here, elsewhere };
  }

  /**
   * Moves the client and its party's online members into one room of `type` with a seat for each;
   * resolves to the room's id, or to a refusal when the party cannot fit one.
   */
  async move(client: ClientInterfacer, type: string): Promise<{ room: string } | { refused: string }> {
    const { rooms, partyMoves: cluster } = this.core.deps;
    const { here, elsewhere } = await this.members(client);
    const capacity = rooms.capacityOf(type);
    if (capacity > 0 && here.length + elsewhere.length > capacity) return { refused: PartyMoveReason.tooBig(capacity) };
    let room: string;
    if (elsewhere.length === 0 || !cluster) {
      room = rooms.roomWithSeats(type, here);
    } else {
      room = `${type}-party-${crypto.randomUUID().slice(0, 8)}`;
      rooms.create(type, room);
      cluster.announce({ room, roomType: type, users: elsewhere });
    }
    for (const member of here) this.enter(member, room);
    client.log.info(`Party of ${here.length + elsewhere.length} moved into room ${room}`);
    return { room };
  }

  /** Another node moved a party: its members here follow. */
  moved({ room, roomType, users }: PartyMove): void {
    const { rooms } = this.core.deps;
    const here = users.map((id) => this.core.sessions.get(id)?.client).filter((c): c is ClientInterfacer => c?.open === true);
    if (here.length === 0) return;
    if (!rooms.get(room)) rooms.create(roomType, room);
    for (const member of here) this.enter(member, room);
  }

  /** Puts the client and its party's online members into the queue as one entry; a refusal when they cannot fit one match. */
  async queue(client: ClientInterfacer, queue: string, filter = ""): Promise<{ refused?: string }> {
    const { matches } = this.core.deps;
    const size = matches.sizeOf(queue);
    const { here, elsewhere } = await this.members(client);
    if (here.length + elsewhere.length > size) return { refused: PartyMoveReason.tooBigForQueue(size) };
    matches.askTogether(
      queue,
      here,
      filter,
      elsewhere.map((userId) => ({ node: ANY_NODE, clientId: 0, userId })),
    );
    return {};
  }
}
