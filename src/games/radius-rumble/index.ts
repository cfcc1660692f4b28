// Radius Rumble, the game of the "Godot 4 + Golang MMO" series: log in from the lobby to one shared
// world of players and spores, or browse the hiscores.
import { lobbyState } from "../../accounts/lobby.ts";
import { defineGame, type DashboardView } from "../../rooms/game.ts";
import { browsingHiscoresState } from "./browsing-hiscores.ts";
import { inGameState } from "./in-game.ts";
import { WORLD_ROOM, WorldRoom } from "./world-room.ts";

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
    const room = () => rooms.get<WorldRoom>(WORLD_ROOM)!;
    const world = () => room().world;
    // In a cluster, a node that does not run the world shows its owner's figures, never its idle copy.
    const figure = (name: "players" | "spores") => Number(rooms.figures(WORLD_ROOM)?.figures?.[name] ?? 0);
    metrics.gauge("mmo_players", "Players in the world (in a cluster: as the world's owner last reported)", () => figure("players"));
    metrics.gauge("mmo_spores", "Spores in the world (in a cluster: as the world's owner last reported)", () => figure("spores"));
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
        const known = rooms.figures(WORLD_ROOM);
        if (known && !known.live) return { players: figure("players"), spores: figure("spores"), world: { runsOn: known.owner ?? null, reportedMsAgo: known.reportedMsAgo ?? null } };
        const w = world();
        return { players: w.players.size, spores: w.spores.size, tickMs: w.tickStats(), roomTickMs: room().entities.timings().tickMs, framesMs: room().entities.timings().framesMs };
      },
      dashboard(): DashboardView {
        const known = rooms.figures(WORLD_ROOM);
        if (known && !known.live) {
          return { tiles: { World: `runs on ${known.owner ?? "no node yet"}`, Players: figure("players"), Spores: figure("spores") } };
        }
        const w = world();
        return {
          tiles: { "Tick p99 (ms)": w.tickStats().p99.toFixed(2) },
          players: [...w.players.values()].map((p) => ({ id: p.id, name: p.name, score: p.bestScore, x: p.x, y: p.y, radius: p.radius, color: p.color })),
        };
      },
    };
  },
});
