// The world as a room: the framework ticks it at 20 Hz, hands it its members' claims, and carries
// what it says to the members' sockets. Best scores reach the hiscores board every few seconds and on
// leaving.
import { newDisconnect, type Msg } from "../../packets/index.ts";
import { Room, type RoomContext, type RoomHandlers } from "../../rooms/room.ts";
import type { Leaderboard } from "../../store/leaderboards.ts";
import { TICK_SECONDS } from "./rules.ts";
import { World, type PlayerProfile, type WorldSnapshot } from "./world.ts";

/** The one world every player enters. */
export const WORLD_ROOM = "world";
/** What the others hear when a player leaves without its own disconnect. */
export const LEFT_REASON = "Client disconnected";
/** Best scores reach the board at most this often while players play (and always on leaving). */
const SCORE_FLUSH_MS = 5000;

export class WorldRoom extends Room<PlayerProfile, WorldSnapshot> {
  override readonly tickHz = 1 / TICK_SECONDS;
  readonly world: World;

  override readonly messages: RoomHandlers = {
    playerDirection: (id, { direction }) => this.world.setDirection(id, direction),
    sporeConsumed: (id, { sporeId }) => void this.world.consumeSpore(id, sporeId),
    playerConsumed: (id, { playerId }) => void this.world.consumePlayer(id, playerId),
  };

  constructor(
    ctx: RoomContext,
    private readonly hiscores: Leaderboard,
    onTick: (ms: number) => void,
  ) {
    super(ctx);
    this.world = new World({
      random: ctx.random,
      now: () => ctx.now(),
      output: {
        toAll: (senderId, msg) => ctx.publish(senderId, msg),
        stateToAll: (senderId, msg) => ctx.publish(senderId, msg, true),
        toOthers: (senderId, msg) => ctx.broadcast(senderId, msg),
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
