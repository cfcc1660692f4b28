// Room types a game declares, through a real server: a room that closes when its last member leaves.
import { expect, test } from "bun:test";
import { lobbyState } from "../src/accounts/lobby.ts";
import type { ClientInterfacer } from "../src/hub/client.ts";
import { defineState } from "../src/hub/states.ts";
import { defineGame } from "../src/rooms/game.ts";
import { Room } from "../src/rooms/room.ts";
import type { Rooms } from "../src/rooms/rooms.ts";
import { login, register, startTestServer, TestClient, waitFor } from "./helpers.ts";

test("closeWhenEmpty: a cave closes (onDispose) when its last member leaves, by a logout or a closed connection; a cave with a member left stays", async () => {
  const disposed: string[] = [];
  const caves = defineGame({
    name: "caves",
    description: "caves of two, closed when empty",
    create({ rooms, accounts }) {
      class Cave extends Room {
        onJoin() {}
        onLeave() {}
        override onDispose() {
          disposed.push(this.ctx.id);
        }
        snapshot() {
          return {};
        }
        restore() {}
      }
      const inCave = defineState({
        onEnter: (client) => void rooms.joinOrCreate(client, "cave", undefined),
        handleMessage: { disconnect: (client) => client.setState("Connected") },
        onExit: (client) => rooms.leave(client),
      });
      return {
        states: {
          initial: "Connected",
          states: { Connected: lobbyState(accounts, { afterLogin: (c) => c.setState("InCave") }), InCave: inCave },
          transitions: { Connected: ["InCave"], InCave: ["Connected"] },
        },
        rooms: { cave: { create: (ctx) => new Cave(ctx), capacity: 2, closeWhenEmpty: true } },
      };
    },
  });
  const srv = await startTestServer(caves);
  try {
    const players = await Promise.all([1, 2, 3].map(() => TestClient.connect(srv.url)));
    for (const [i, c] of players.entries()) {
      expect(await register(c, `Caver${i}`, "a password")).toBe("ok");
      expect(await login(c, `Caver${i}`, "a password")).toBe("ok");
    }
    const [a, b, c] = players as [TestClient, TestClient, TestClient];
    expect([srv.rooms.memberCount("cave-1"), srv.rooms.memberCount("cave-2")]).toEqual([2, 1]);
    // One of two leaves: the cave stays.
    a.send({ $case: "disconnect", value: { reason: "logout" } });
    await waitFor(() => srv.rooms.memberCount("cave-1") === 1, 3000, "a to leave cave-1");
    expect(srv.rooms.get("cave-1")).toBeDefined();
    // The last leaves by closing its connection: the cave closes.
    await b.close();
    await waitFor(() => srv.rooms.get("cave-1") === undefined, 3000, "cave-1 to close");
    expect(disposed).toEqual(["cave-1"]);
    expect(srv.rooms.get("cave-2")).toBeDefined();
    await c.close();
    await waitFor(() => disposed.length === 2, 3000, "cave-2 to close");
    expect(disposed).toEqual(["cave-1", "cave-2"]);
  } finally {
    await srv.stop();
  }
});

// Join data is typed by the room's class (`rooms.join<R>`, `rooms.joinOrCreate<R>`): tsc checks the
// tests, so these lines stop compiling if it is not. Never called.
export function typedJoins(rooms: Rooms, client: ClientInterfacer): void {
  class Cave extends Room<{ torch: boolean }> {
    onJoin() {}
    onLeave() {}
    snapshot() {
      return {};
    }
    restore() {}
  }
  class Open extends Room {
    onJoin() {}
    onLeave() {}
    snapshot() {
      return {};
    }
    restore() {}
  }
  rooms.join<Cave>(client, "cave-1", { torch: true });
  rooms.joinOrCreate<Cave>(client, "cave", { torch: false });
  // @ts-expect-error a Cave's join is { torch }, not a string
  rooms.join<Cave>(client, "cave-1", "Ann");
  // @ts-expect-error a Cave's join may not be left out
  rooms.joinOrCreate<Cave>(client, "cave");
  rooms.join<Open>(client, "open-1");
}
