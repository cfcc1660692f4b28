// A held session as data (JSON), the one way it is made: for a restart that keeps the game (restart.ts)
// and for a move to another node (resume-link.ts). The account goes without its password's hash: the
// player is logged in already, and the hash stays in the database.
import type { SessionData } from "../hub/resume.ts";
import type { WebSocketClient } from "../hub/websocket-client.ts";
import type { Rooms } from "../rooms/rooms.ts";

export function sessionData(client: WebSocketClient, rooms: Rooms, token: string, msLeft: number): SessionData {
  return {
    token,
    id: client.id,
    ip: client.ip,
    account: { ...client.account!, passwordHash: "" },
    state: client.stateSnapshot,
    topics: [...(client.session?.topics ?? [])],
    room: rooms.membershipOf(client.id),
    msLeft,
  };
}
