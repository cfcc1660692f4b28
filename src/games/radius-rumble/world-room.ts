// The world as a room: the framework ticks it at 20 Hz, hands it its members' claims, and carries
// what it says to the members' sockets. Best scores reach the hiscores board every few seconds and on
// leaving.
import { newDisconnect, type Msg } from "../../packets/index.ts";
import { Room, type RoomContext, type RoomHandlers } from "../../rooms/room.ts";
import type { Leaderboard } from "../../store/leaderboards.ts";
import type { Entities, Entity, Timings } from "../../world/world.ts";
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
/** What a client of the series hears, as from a player, when the player leaves its view in a large world. */
export const OUT_OF_VIEW = "Out of view";

/** The world's figures (see figures()); a type, not an interface, to be a RoomFigures. */
export type WorldFigures = {
  players: number;
  spores: number;
  /** The game's tick (see World.tickStats). */
  tickMs: ReturnType<World["tickStats"]>;
  /** The room's whole tick: the game's step and the frames. */
  roomTickMs: Timings["tickMs"];
  /** Of that tick, on Linux: its own time (running, or held by the collector), and its wait for a CPU. */
  roomTickRunMs?: Timings["tickRunMs"];
  roomTickWaitMs?: Timings["tickWaitMs"];
};

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
    // The series' world sends everything to every client of the series; a larger one, what is in its view.
    const byView = worldSize > DEFAULT_WORLD_SIZE;
    if (byView) this.entities.showClassic((clientId, entered, changed, left) => this.showClassic(clientId, entered, changed, left));
    const classic = byView ? undefined : ctx.classic;
    this.world = new World({
      entities: this.entities,
      byView,
      hasClassic: () => !byView && ctx.members.size > this.entities.framesClients,
      spawnBound: worldSize / 2,
      maxSpores: Math.round(MAX_SPORES * scale),
      random: ctx.random,
      now: () => ctx.now(),
      output: {
        // The world's own messages go to the clients that take no frames: the others see it in them.
        toAll: (senderId, msg) => classic?.publish(senderId, msg),
        stateToAll: (senderId, msg) => classic?.publish(senderId, msg, true),
        toOthers: (senderId, msg) => classic?.broadcast(senderId, msg),
        toPlayer: (playerId, senderId, msg) => ctx.send(playerId, msg, senderId),
        refused: (playerId, why) => ctx.log.debug(`Refused a claim of client ${playerId}: ${why}`),
      },
      onTick,
    });
  }

  /**
   * In a large world, a client of the series is sent what its view shows as the series' messages: a
   * player or spore that enters, each player's state while in view (eats come as the events they are),
   * and a player that leaves it as that player's disconnect, which is how the series' client removes one.
   */
  private showClassic(clientId: number, entered: readonly Entity[], changed: readonly Entity[], left: readonly Entity[]): void {
    const show = (entity: Entity) => {
      const state = entity.stateMessage();
      if (state?.$case === "player") this.ctx.send(clientId, { $case: "player", value: { ...state.value, x: entity.x, y: entity.y } }, state.value.id);
      else if (state?.$case === "spore") this.ctx.send(clientId, { $case: "spore", value: { ...state.value, x: entity.x, y: entity.y } }, 0);
    };
    for (const entity of entered) show(entity);
    for (const entity of changed) if (entity.kind === "player") show(entity);
    for (const entity of left) {
      const state = entity.stateMessage();
      if (state?.$case === "player" && state.value.id !== clientId) this.ctx.send(clientId, newDisconnect(OUT_OF_VIEW), state.value.id);
    }
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

  /** What every node shows of the world (/healthz, /metrics, the dashboard): in a cluster, the owner's figures. */
  override figures(): WorldFigures {
    const { tickMs, tickRunMs, tickWaitMs } = this.entities.timings();
    return { players: this.world.players.size, spores: this.world.spores.size, tickMs: this.world.tickStats(), roomTickMs: tickMs, ...(tickRunMs && { roomTickRunMs: tickRunMs, roomTickWaitMs: tickWaitMs }) };
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
