// The testkit (src/testing), with Radius Rumble as the game unless a test says otherwise.
import type { Config } from "../src/config.ts";
import { radiusRumble } from "../src/games/radius-rumble/index.ts";
import type { Game } from "../src/rooms/game.ts";
import { startTestServer as startGameServer, type TestServer } from "../src/testing/server.ts";

export * from "../src/testing/client.ts";
export { LogCapture, type TestServer } from "../src/testing/server.ts";

export function startTestServer(overrides: Partial<Config> = {}, game: Game = radiusRumble): TestServer {
  return startGameServer(game, overrides);
}
