// The world of Radius Rumble: every player and spore, and one tick at 20 Hz that moves every player,
// drops and replenishes spores, and publishes each player's state once. It knows no sockets: what it
// says goes out through WorldOutput. Its room (world-room.ts) connects it to the framework.
import type { Msg } from "../../packets/index.ts";
import { percentiles, type Entities, type Entity } from "../../world/world.ts";
import { SpatialGrid } from "./grid.ts";
import { gaussian, type Random } from "../../rooms/random.ts";
import {
  bestScoreOf,
  canEatPlayer,
  dropChance,
  dropCooldownSeconds,
  droppedSporeRadius,
  grownRadius,
  MAX_SPORES,
  moved,
  overlaps,
  PLAYER_SPEED,
  PLAYER_START_RADIUS,
  REPLENISH_SECONDS,
  SPAWN_BOUND,
  spawnPoint,
  SPORES_PER_BATCH,
  SPORES_PER_REPLENISH,
  sporeRadiusFrom,
  TICK_SECONDS,
  withinReach,
} from "./rules.ts";

export interface WorldOutput {
  /** To every client in the world, the sender's own included. */
  toAll(senderId: number, msg: Msg): void;
  /** A tick's state of a player, to everyone: the next tick's replaces it. */
  stateToAll(senderId: number, msg: Msg): void;
  /** To every client in the world but the sender's. */
  toOthers(senderId: number, msg: Msg): void;
  /** To one player's client, as from `senderId`. */
  toPlayer(playerId: number, senderId: number, msg: Msg): void;
  /** A claim that the rules refused (logged at debug level by the caller). */
  refused(playerId: number, why: string): void;
}

export interface PlayerProfile {
  name: string;
  color: number;
  bestScore: number;
  /** Whose best score it is (the account's id, the owner of its hiscores record); the world only hands it back. */
  scoreKey: number;
}

export interface Player extends PlayerProfile {
  id: number;
  x: number;
  y: number;
  radius: number;
  direction: number;
  speed: number;
  /** False until the first player_direction: a player without a heading does not move. */
  moving: boolean;
}

export interface Spore {
  id: number;
  x: number;
  y: number;
  radius: number;
  /** The player that dropped it, and when (ms); 0 for spores the world made. */
  droppedBy: number;
  droppedAt: number;
}

export interface WorldSnapshot {
  ticks: number;
  nextSporeId: number;
  players: Player[];
  spores: Spore[];
}

/** Batches of spores a newly entered player is still owed, sent a few per tick. */
interface SporeDelivery {
  playerId: number;
  pending: number[];
}

const BATCHES_PER_TICK = 10;
/**
 * A snapshot's next spore id lies this far ahead of the world's: a world restored from it (in a
 * cluster, on another node after its owner died) never reuses an id its clients saw after the snapshot.
 */
const SPORE_IDS_AHEAD = 1_000_000;
const TICKS_PER_REPLENISH = Math.round(REPLENISH_SECONDS / TICK_SECONDS);
const TICK_HISTORY = 200;
/**
 * Players whose state is published in one turn of the event loop. Small chunks keep every turn short
 * and let the native layer flush between them (bun run bench:bots: at 200 players, chunks of 10 cut
 * the tick p99 from 22 ms with chunks of 50 to 7 ms).
 */
const FANOUT_CHUNK = 10;

export interface WorldOptions {
  random: Random;
  /** Milliseconds, for the drop cooldown; injectable so tests need not sleep. */
  now: () => number;
  output: WorldOutput;
  maxSpores?: number;
  /** Half the side of the square players and spores spawn in (the series' 3000). */
  spawnBound?: number;
  /**
   * The world as entities, for the clients that take frames: players (state PlayerMessage without x
   * and y) and spores (SporeMessage without x and y), at their positions.
   */
  entities?: Entities;
  /** A world larger than the series': its clients are shown what their views see (see WorldRoom), not sent it all. */
  byView?: boolean;
  /** Whether any client takes the per-tick messages (false: every one takes frames; the fan-out is skipped). */
  hasClassic?: () => boolean;
  /** Told each tick's whole duration (step and fan-out) in ms, for the metrics. */
  onTick?: (ms: number) => void;
  /** The clock a tick's own durations are measured with, ms (default performance.now; tests set their own). */
  clock?: () => number;
}

export class World {
  readonly players = new Map<number, Player>();
  readonly spores = new Map<number, Spore>();
  private readonly playerGrid = new SpatialGrid<Player>();
  private readonly sporeGrid = new SpatialGrid<Spore>();
  private readonly deliveries: SporeDelivery[] = [];
  private readonly dirtyScores = new Map<number, { score: number; name: string }>();
  private readonly random: Random;
  private readonly now: () => number;
  private readonly output: WorldOutput;
  private readonly maxSpores: number;
  private readonly onTick: ((ms: number) => void) | undefined;
  private readonly clock: () => number;
  private nextSporeId = 1;
  private ticks = 0;
  /**
   * The fan-out of the last tick, while it is being published: `started` is when the tick's step began,
   * `longestBlock` the longest time one of its blocks held the event loop (the first from the tick's start).
   */
  private fanout: { players: Player[]; next: number; started: number; step: number; longestBlock: number } | undefined;
  /** The most recent ticks' durations, for /healthz, the metrics and the benchmarks. */
  private readonly timings: { whole: number; step: number; longestBlock: number }[] = [];
  private largestPlayerRadius = PLAYER_START_RADIUS;
  private readonly spawnBound: number;
  private readonly entities: Entities | undefined;
  private readonly hasClassic: () => boolean;
  private readonly byView: boolean;
  /** Each player's and spore's entity, by their ids (apart from the snapshot's plain data). */
  private readonly playerEntities = new Map<number, Entity>();
  private readonly sporeEntities = new Map<number, Entity>();

  constructor(options: WorldOptions) {
    this.random = options.random;
    this.now = options.now;
    this.output = options.output;
    this.maxSpores = options.maxSpores ?? MAX_SPORES;
    this.spawnBound = options.spawnBound ?? SPAWN_BOUND;
    this.entities = options.entities;
    this.hasClassic = options.hasClassic ?? (() => true);
    this.byView = options.byView ?? false;
    this.onTick = options.onTick;
    this.clock = options.clock ?? (() => performance.now());
    for (let i = 0; i < this.maxSpores; i++) this.addSpore();
  }

  /** Forgets a fan-out still in flight (the room is closing). */
  stop(): void {
    this.fanout = undefined;
  }

  /** The client takes frames: the spores still owed to it in batches are not sent. */
  framesOnly(id: number): void {
    const i = this.deliveries.findIndex((d) => d.playerId === id);
    if (i >= 0) this.deliveries.splice(i, 1);
  }

  /** Spawns a player with the client's id, sends it its own state, and queues the spores for it. */
  join(id: number, profile: PlayerProfile): Player {
    const { x, y } = spawnPoint(PLAYER_START_RADIUS, this.random, (c) => this.isFree(c), this.spawnBound);
    const player: Player = { ...profile, id, x, y, radius: PLAYER_START_RADIUS, direction: 0, speed: PLAYER_SPEED, moving: false };
    this.addPlayer(player);
    // A client that takes frames, or in a large world, sees its player and the spores enter its view.
    if (this.byView || this.entities?.takesFrames(id)) return player;
    this.output.toPlayer(id, id, playerMsg(player));
    this.deliveries.push({ playerId: id, pending: [...this.spores.keys()] });
    return player;
  }

  private addPlayer(player: Player): void {
    this.players.set(player.id, player);
    this.playerGrid.insert(player);
    if (!this.entities) return;
    const entity = this.entities.add("player", player.x, player.y, playerState(player));
    this.playerEntities.set(player.id, entity);
    this.entities.view(player.id, { follow: entity });
  }

  private addSporeEntity(spore: Spore): void {
    if (this.entities) this.sporeEntities.set(spore.id, this.entities.add("spore", spore.x, spore.y, sporeState(spore)));
  }

  /** The player's state changed (its radius, heading): frames carry it to those who see it. */
  private restate(player: Player): void {
    this.playerEntities.get(player.id)?.setState(playerState(player));
  }

  /** Sends a player back from away what a joining player gets: its own state and every spore. */
  catchUp(id: number): void {
    const player = this.players.get(id);
    if (!player || this.byView || this.entities?.takesFrames(id)) return;
    this.output.toPlayer(id, id, playerMsg(player));
    const i = this.deliveries.findIndex((d) => d.playerId === id);
    if (i >= 0) this.deliveries.splice(i, 1);
    this.deliveries.push({ playerId: id, pending: [...this.spores.keys()] });
  }

  /** Removes the player; returns it (with its best score) when it was in the world. */
  leave(id: number): Player | undefined {
    const player = this.players.get(id);
    if (!player) return undefined;
    this.players.delete(id);
    this.playerGrid.remove(player);
    this.playerEntities.get(id)?.remove();
    this.playerEntities.delete(id);
    const i = this.deliveries.findIndex((d) => d.playerId === id);
    if (i >= 0) this.deliveries.splice(i, 1);
    this.dirtyScores.delete(player.scoreKey);
    return player;
  }

  setDirection(id: number, direction: number): void {
    const player = this.players.get(id);
    if (!player || !Number.isFinite(direction)) return;
    player.direction = direction;
    player.moving = true;
    this.restate(player);
  }

  /** A client's claim that its player ate a spore; true when the rules allow it. */
  consumeSpore(id: number, sporeId: number): boolean {
    const player = this.players.get(id);
    const spore = this.spores.get(sporeId);
    if (!player) return false;
    if (!spore) return this.refuse(id, `spore ${sporeId} does not exist`);
    if (!withinReach(player, spore)) return this.refuse(id, `spore ${sporeId} is out of reach`);
    if (spore.droppedBy === id && (this.now() - spore.droppedAt) / 1000 < dropCooldownSeconds(spore.radius, player.radius, player.speed)) {
      return this.refuse(id, `spore ${sporeId} was dropped by this player too recently`);
    }
    this.removeSpore(spore);
    this.grow(player, spore.radius);
    const eaten: Msg = { $case: "sporeConsumed", value: { sporeId } };
    this.output.toOthers(id, eaten);
    this.entities?.event(spore.x, spore.y, eaten, id);
    return true;
  }

  /** A client's claim that its player ate another; the victim respawns. True when the rules allow it. */
  consumePlayer(id: number, victimId: number): boolean {
    const player = this.players.get(id);
    const victim = this.players.get(victimId);
    if (!player) return false;
    if (!victim || victimId === id) return this.refuse(id, `player ${victimId} is not in the world`);
    if (!withinReach(player, victim)) return this.refuse(id, `player ${victimId} is out of reach`);
    if (!canEatPlayer(player.radius, victim.radius)) return this.refuse(id, `player ${victimId} is not small enough to eat`);
    this.grow(player, victim.radius);
    this.leave(victimId);
    const eaten: Msg = { $case: "playerConsumed", value: { playerId: victimId } };
    this.output.toOthers(id, eaten);
    this.entities?.event(victim.x, victim.y, eaten, id);
    // A fresh entry, as the series' client expects: same name, colour, account and best score.
    const { name, color, bestScore, scoreKey } = victim;
    this.join(victimId, { name, color, bestScore, scoreKey });
    return true;
  }

  /**
   * One step of the world (its room ticks it every 50 ms; tests call it directly), then the fan-out
   * of every player's state: the first FANOUT_CHUNK players at once, the rest in chunks on the next
   * turns of the event loop, so that a large world never holds the loop for the whole fan-out.
   */
  tick(): void {
    const started = this.clock();
    this.ticks++;
    for (const player of this.players.values()) {
      if (player.moving) {
        const to = moved(player.x, player.y, player.direction, player.speed, TICK_SECONDS);
        player.x = to.x;
        player.y = to.y;
        this.playerGrid.moved(player);
        this.playerEntities.get(player.id)?.move(to.x, to.y);
      }
      if (this.random() < dropChance(player.radius)) this.dropSpore(player);
    }
    if (this.ticks % TICKS_PER_REPLENISH === 0) this.replenish();
    this.deliverSpores();
    // A fan-out still running from the last tick (an overloaded loop) is finished first, so that
    // every player's state still reaches everyone once a tick, the last in line included.
    if (this.fanout) this.publishChunk(this.clock(), Infinity);
    const step = this.clock() - started;
    this.fanout = { players: this.hasClassic() ? [...this.players.values()] : [], next: 0, started, step, longestBlock: 0 };
    this.publishChunk(started);
  }

  private readonly publishChunk = (blockStart = this.clock(), size = FANOUT_CHUNK): void => {
    const fanout = this.fanout;
    if (!fanout) return;
    const end = Math.min(fanout.players.length, fanout.next + size);
    for (; fanout.next < end; fanout.next++) {
      const player = fanout.players[fanout.next]!;
      // One that left (or was eaten and respawned) since the step is not published from the grave.
      if (this.players.get(player.id) === player) this.output.stateToAll(player.id, playerMsg(player));
    }
    const block = this.clock() - blockStart;
    fanout.longestBlock = Math.max(fanout.longestBlock, block);
    if (fanout.next < fanout.players.length) setImmediate(() => this.publishChunk());
    else this.finishFanout();
  };

  private finishFanout(): void {
    const fanout = this.fanout!;
    this.fanout = undefined;
    // Wall time, from the step's start to the fan-out's end: the turns of the event loop between its
    // chunks are in it (what a player waits for the last update of the tick).
    const whole = this.clock() - fanout.started;
    this.timings.push({ whole, step: fanout.step, longestBlock: fanout.longestBlock });
    if (this.timings.length > TICK_HISTORY) this.timings.shift();
    this.onTick?.(whole);
  }

  /** The whole world as plain data: players, spores, the next spore id (see SPORE_IDS_AHEAD) and the tick count. */
  snapshot(): WorldSnapshot {
    return {
      ticks: this.ticks,
      nextSporeId: this.nextSporeId + SPORE_IDS_AHEAD,
      players: [...this.players.values()].map((p) => ({ ...p })),
      spores: [...this.spores.values()].map((s) => ({ ...s })),
    };
  }

  /** Replaces the whole world with a snapshot's (spore ids go on from where it stopped). */
  restore(snapshot: WorldSnapshot): void {
    this.stop();
    for (const player of [...this.players.values()]) this.leave(player.id);
    for (const spore of [...this.spores.values()]) this.removeSpore(spore);
    this.deliveries.length = 0;
    this.ticks = snapshot.ticks;
    this.nextSporeId = snapshot.nextSporeId;
    for (const spore of snapshot.spores) {
      const copy = { ...spore };
      this.spores.set(copy.id, copy);
      this.sporeGrid.insert(copy);
      this.addSporeEntity(copy);
    }
    for (const player of snapshot.players) {
      const copy = { ...player };
      this.addPlayer(copy);
      this.largestPlayerRadius = Math.max(this.largestPlayerRadius, copy.radius);
    }
  }

  /** Best scores that changed since the last call, by score key. */
  takeDirtyScores(): [scoreKey: number, score: number, name: string][] {
    const scores = [...this.dirtyScores].map(([key, { score, name }]): [number, number, string] => [key, score, name]);
    this.dirtyScores.clear();
    return scores;
  }

  /**
   * Recent ticks, in ms: the whole tick in wall time (from the step's start to the fan-out's end), the
   * step alone, and the longest time one tick held the event loop without a break (what delays
   * everything else).
   */
  tickStats(): { ticks: number; p50: number; p99: number; max: number; stepP99: number; longestBlockP99: number } {
    const whole = percentiles(this.timings.map((t) => t.whole));
    return {
      ticks: this.ticks,
      ...whole,
      stepP99: percentiles(this.timings.map((t) => t.step)).p99,
      longestBlockP99: percentiles(this.timings.map((t) => t.longestBlock)).p99,
    };
  }

  private refuse(id: number, why: string): false {
    this.output.refused(id, why);
    return false;
  }

  private grow(player: Player, eatenRadius: number): void {
    player.radius = grownRadius(player.radius, eatenRadius);
    this.restate(player);
    this.largestPlayerRadius = Math.max(this.largestPlayerRadius, player.radius);
    const score = bestScoreOf(player.radius);
    if (score > player.bestScore) {
      player.bestScore = score;
      this.dirtyScores.set(player.scoreKey, { score, name: player.name });
    }
  }

  private isFree(circle: { x: number; y: number; radius: number }): boolean {
    const hit = (other: { x: number; y: number; radius: number }) => overlaps(circle, other);
    return !this.playerGrid.some(circle, this.largestPlayerRadius, hit) && !this.sporeGrid.some(circle, 15, hit);
  }

  private addSpore(): Spore {
    const radius = sporeRadiusFrom(gaussian(this.random));
    const { x, y } = spawnPoint(radius, this.random, (c) => this.isFree(c), this.spawnBound);
    const spore: Spore = { id: this.nextSporeId++, x, y, radius, droppedBy: 0, droppedAt: 0 };
    this.spores.set(spore.id, spore);
    this.sporeGrid.insert(spore);
    this.addSporeEntity(spore);
    return spore;
  }

  private removeSpore(spore: Spore): void {
    this.spores.delete(spore.id);
    this.sporeGrid.remove(spore);
    this.sporeEntities.get(spore.id)?.remove();
    this.sporeEntities.delete(spore.id);
  }

  private dropSpore(player: Player): void {
    const radius = droppedSporeRadius(player.radius);
    const spore: Spore = { id: this.nextSporeId++, x: player.x, y: player.y, radius, droppedBy: player.id, droppedAt: this.now() };
    // The spore's mass comes off the player.
    player.radius = Math.sqrt(Math.max(0, player.radius * player.radius - radius * radius));
    this.restate(player);
    this.spores.set(spore.id, spore);
    this.sporeGrid.insert(spore);
    this.addSporeEntity(spore);
    this.output.toAll(player.id, sporeMsg(spore));
  }

  private replenish(): void {
    for (let i = 0; i < SPORES_PER_REPLENISH && this.spores.size < this.maxSpores; i++) {
      this.output.toAll(0, sporeMsg(this.addSpore()));
    }
  }

  private deliverSpores(): void {
    let budget = BATCHES_PER_TICK;
    while (budget > 0 && this.deliveries.length > 0) {
      const delivery = this.deliveries[0]!;
      const spores: ReturnType<typeof sporeMsg>["value"][] = [];
      // Spores eaten since the player entered are skipped: it will never hear of them otherwise.
      while (spores.length < SPORES_PER_BATCH && delivery.pending.length > 0) {
        const spore = this.spores.get(delivery.pending.pop()!);
        if (spore) spores.push(sporeMsg(spore).value);
      }
      if (spores.length > 0) {
        this.output.toPlayer(delivery.playerId, 0, { $case: "sporesBatch", value: { spores } });
        budget--;
      }
      if (delivery.pending.length === 0) this.deliveries.shift();
    }
  }
}

export function playerMsg(p: Player): Extract<Msg, { $case: "player" }> {
  return {
    $case: "player",
    value: { id: p.id, name: p.name, x: p.x, y: p.y, radius: p.radius, direction: p.direction, speed: p.speed, color: p.color },
  };
}

/** A player's state as an entity: its PlayerMessage, the position left to the entity's own. */
function playerState(p: Player): Msg {
  return { $case: "player", value: { id: p.id, name: p.name, x: 0, y: 0, radius: p.radius, direction: p.direction, speed: p.moving ? p.speed : 0, color: p.color } };
}

/** A spore's state as an entity: its SporeMessage, the position left to the entity's own. */
function sporeState(s: Spore): Msg {
  return { $case: "spore", value: { id: s.id, x: 0, y: 0, radius: s.radius } };
}

function sporeMsg(s: Spore): Extract<Msg, { $case: "spore" }> {
  return { $case: "spore", value: { id: s.id, x: s.x, y: s.y, radius: s.radius } };
}
