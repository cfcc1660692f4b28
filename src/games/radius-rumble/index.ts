// Radius Rumble, the game of the "Godot 4 + Golang MMO" series: log in from the lobby to one shared
// world of players and spores, or browse the hiscores.
import { lobbyState } from "../../accounts/lobby.ts";
import { defineGame, type DashboardView } from "../../rooms/game.ts";
import { browsingHiscoresState } from "./browsing-hiscores.ts";
import { inGameState } from "./in-game.ts";
import { WORLD_ROOM, WorldRoom, type WorldFigures } from "./world-room.ts";

/** The board of best scores. */
export const HISCORES = "hiscores";

export const radiusRumble = defineGame({
  name: "radius-rumble",
  description: "the series' game: one world of players and spores, hiscores (default)",
  create({ options, rooms, accounts, leaderboards, metrics }) {
    // The series' hiscores: best score, descending, ties to the older account.
    const hiscores = leaderboards.define({ id: HISCORES, order: "desc", operator: "best" });
    const tickSeconds = metrics.histogram("mmo_world_tick_seconds", "Duration of one world tick (simulation and fan-out)", [
      0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1,
    ]);
    // The world's figures on any node: in a cluster, where another node runs it, its owner's last report.
    const figures = () => rooms.figures(WORLD_ROOM) as Partial<WorldFigures> | undefined;
    metrics.gauge("mmo_players", "Players in the world (in a cluster: as the world's owner last reported)", () => figures()?.players ?? 0);
    metrics.gauge("mmo_spores", "Spores in the world (in a cluster: as the world's owner last reported)", () => figures()?.spores ?? 0);
    return {
      states: {
        initial: "Connected",
        states: {
          Connected: lobbyState(accounts, {
            afterLogin: (client, account) => client.setState("InGame", account),
            // Every player is on the board from its registration on, with 0.
            afterRegister: (account) => void hiscores.submit(account.userId, 0, { name: account.name }),
            handlers: { hiscoreBoardRequest: (client) => client.setState("BrowsingHiscores") },
          }),
          InGame: inGameState(rooms, hiscores),
          BrowsingHiscores: browsingHiscoresState(hiscores),
        },
        transitions: {
          Connected: ["InGame", "BrowsingHiscores"],
          InGame: ["Connected"],
          BrowsingHiscores: ["Connected"],
        },
      },
      rooms: { [WORLD_ROOM]: (ctx) => new WorldRoom(ctx, hiscores, (ms) => tickSeconds.observe(ms / 1000), options.worldSize) },
      start() {
        rooms.create(WORLD_ROOM, WORLD_ROOM);
      },
      health() {
        // The frames this node makes for its own clients, wherever the world runs.
        return { ...figures(), framesMs: rooms.get<WorldRoom>(WORLD_ROOM)?.entities.timings().framesMs };
      },
      dashboard(): DashboardView {
        const known = figures();
        // The map of players where the world runs here; elsewhere the tiles, and the cluster's where it runs.
        const world = rooms.running<WorldRoom>(WORLD_ROOM)?.world;
        return {
          tiles: { Players: known?.players ?? 0, Spores: known?.spores ?? 0, ...(known?.tickMs && { "Tick p99 (ms)": known.tickMs.p99.toFixed(2) }) },
          players: world && [...world.players.values()].map((p) => ({ id: p.id, name: p.name, score: p.bestScore, x: p.x, y: p.y, radius: p.radius, color: p.color })),
        };
      },
    };
  },
});
