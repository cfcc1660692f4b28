// The games this server can run, by the name `--game NAME` chooses. Add yours here.
import type { Game } from "../rooms/game.ts";
import { duel } from "./duel/index.ts";
import { radiusRumble } from "./radius-rumble/index.ts";

export const GAMES: readonly Game[] = [radiusRumble, duel];

