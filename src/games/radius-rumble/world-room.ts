// The world as a room: the framework ticks it at 20 Hz, hands it its members' claims, and carries
// what it says to the members' sockets. Best scores reach the hiscores board every few seconds and on
// leaving.
import { newDisconnect, type Msg } from "../../packets/index.ts";
import { Room, type RoomContext, type RoomHandlers } from "../../rooms/room.ts";
import type { Leaderboard } from "../../store/leaderboards.ts";
import type { Entities } from "../../world/world.ts";
import { MAX_SPORES, SPAWN_BOUND, TICK_SECONDS } from "./rules.ts";
import { World, type PlayerProfile, type WorldSnapshot } from "./world.ts";

/** The one world every player enters. */
export const WORLD_ROOM = "world";
/** What the others hear when a player leaves without its own disconnect. */
export const LEFT_REASON = "Client disconnected";
/** Best scores reach the board at most this often while players play (and always on leaving). */
const SCORE_FLUSH_MS = 5000;
/** The series' world: 6000 units a side. */
export const DEFAULT_WORLD_SIZE = 2 * SPAWN_BOUND;
/**
 * How far a client taking frames sees around its player: a 1920×1080 window at the series' zoom
 * shows ±960 by ±540, so 1200 covers it with a margin for the things that move in.
 */
export const VIEW_RADIUS = 1200;
/** Positions in frames are whole tenths of a unit: finer than a pixel at the series' zoom. */
export const PRECISION = 0.1;

export class WorldRoom extends Room<PlayerProfile, WorldSnapshot> {
  override readonly tickHz = 1 / TICK_SECONDS;
  readonly world: World;
  /** The world as entities, whose frames the framework makes after each tick. */
  readonly entities: Entities;

  override readonly messages: RoomHandlers = {
    playerDirection: (id, { direction }) => this.world.setDirection(id, direction),
    sporeConsumed: (id, { sporeId }) => void this.world.consumeSpore(id, sporeId),
    playerConsumed: (id, { playerId }) => void this.world.consumePlayer(id, playerId),
  };

  constructor(
    ctx: RoomContext,
    private readonly hiscores: Leaderboard,
    onTick: (ms: number) => void,
    worldSize = DEFAULT_WORLD_SIZE,
  ) {
    super(ctx);
    // Spores keep the series' density: 1000 in 6000², as many more as the area is larger.
    const scale = (worldSize / DEFAULT_WORLD_SIZE) ** 2;
    this.entities = ctx.replicate({ viewRadius: VIEW_RADIUS, precision: PRECISION });
    this.world = new World({
      entities: this.entities,
      hasClassic: () => ctx.members.size > this.entities.framesClients,
      spawnBound: worldSize / 2,
      maxSpores: Math.round(MAX_SPORES * scale),
      random: ctx.random,
      now: () => ctx.now(),
      output: {
        // The world's own messages go to the clients that take no frames: the others see it in them.
        toAll: (senderId, msg) => ctx.classic.publish(senderId, msg),
        stateToAll: (senderId, msg) => ctx.classic.publish(senderId, msg, true),
        toOthers: (senderId, msg) => ctx.classic.broadcast(senderId, msg),
        toPlayer: (playerId, senderId, msg) => ctx.send(playerId, msg, senderId),
        refused: (playerId, why) => ctx.log.debug(`Refused a claim of client ${playerId}: ${why}`),
      },
      onTick,
    });
  }

  override onCreate(): void {
    this.ctx.setInterval(() => this.flushScores(), SCORE_FLUSH_MS);
  }

  onJoin(clientId: number, profile: PlayerProfile): void {
    this.world.join(clientId, profile);
  }

  onLeave(clientId: number): void {
    const player = this.world.leave(clientId);
    // The board keeps scores while the database is unavailable (and says so in the log).
    if (player) void this.hiscores.submit(player.scoreKey, player.bestScore, { name: player.name });
  }

  override onTick(): void {
    this.world.tick();
  }

  override onFrames(clientId: number): void {
    this.world.framesOnly(clientId);
  }

  /** What every node shows of the world: in a cluster, the owner's figures. */
  override figures(): { players: number; spores: number } {
    return { players: this.world.players.size, spores: this.world.spores.size };
  }

  /** Back from away: its own player and every spore, as on joining; the others' positions come with the next tick. */
  override onBack(clientId: number): void {
    this.world.catchUp(clientId);
  }

  override farewell(): Msg {
    return newDisconnect(LEFT_REASON);
  }

  override onDispose(): void {
    this.world.stop();
    this.flushScores();
  }

  snapshot(): WorldSnapshot {
    return this.world.snapshot();
  }

  restore(snapshot: WorldSnapshot): void {
    this.world.restore(snapshot);
  }

  private flushScores(): void {
    for (const [scoreKey, score, name] of this.world.takeDirtyScores()) void this.hiscores.submit(scoreKey, score, { name });
  }
}
