// The Room API: what a game's room is (its hooks) and what the framework gives it (its context).
// A room is one instance of a room type ("world", "duel-3"); its members are clients, named by id;
// its topic carries its broadcasts, encoded once and fanned out by the native pub/sub.
import type { Logger } from "../log.ts";
import type { Msg, MsgCase, MsgValue } from "../packets/index.ts";
import type { Leaderboards } from "../store/leaderboards.ts";
import type { Storage } from "../store/storage.ts";
import type { Entities, Replication } from "../world/world.ts";
import type { Random } from "./random.ts";

/** What a room reports of itself (see Room.figures): values JSON carries (numbers, strings, objects of them). */
export type RoomFigures = Record<string, unknown>;

/** What the framework gives a room. */
export interface RoomContext {
  /** The room type, as the game defined it ("world"). */
  readonly type: string;
  /** This instance's id, unique on the server ("world", "duel-3"). */
  readonly id: string;
  /** The pub/sub topic of this instance. */
  readonly topic: string;
  /** The ids of the clients in the room. */
  readonly members: ReadonlySet<number>;
  /** Lines prefixed `Room ID: `. */
  readonly log: Logger;
  /** The game's objects: per account or game-wide, versioned, in the server's database (see objects.ts). */
  readonly storage: Storage;
  /** The game's boards: declare them in `create`, read them from memory (see leaderboards.ts). */
  readonly leaderboards: Leaderboards;
  /** Seeded from the server's --seed and the room's id, so a room can be replayed exactly. */
  readonly random: Random;
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** To one member's client, as from `senderId` (0: the server). */
  send(clientId: number, msg: Msg, senderId?: number): void;
  /** To every member but the sender (sender 0: the server, to every member). */
  broadcast(senderId: number, msg: Msg): void;
  /**
   * To every member, the sender's own client included. `superseded`: state the next tick replaces
   * (a position), not kept for a member who is away (see onBack).
   */
  publish(senderId: number, msg: Msg, superseded?: boolean): void;
  /**
   * The members that take no world frames (the series' clients): a world room's per-tick messages go
   * to them alone, since the others see the world through their frames (see replicate).
   */
  readonly classic: {
    publish(senderId: number, msg: Msg, superseded?: boolean): void;
    broadcast(senderId: number, msg: Msg): void;
  };
  /** Moves a member's client to another state of the game (a transition its state table allows). */
  setState(clientId: number, state: string, arg?: unknown): void;
  /** Timers that stop when the room is disposed. */
  setTimeout(run: () => void, ms: number): Timer;
  setInterval(run: () => void, ms: number): Timer;
  clearTimer(timer: Timer): void;
  /** Closes the room: its members leave it (onLeave each), then onDispose. */
  dispose(): void;
  /**
   * Makes the room a world of entities that its members see through views (src/world/): call once,
   * in the room's constructor (so that, in a cluster, every node's copy of the room has its world).
   * Members that ask for frames get one a tick, after onTick.
   */
  replicate(replication: Replication): Entities;
}

/**
 * A room's message handlers by oneof case: each gets the sender's id and its own message type. A
 * handler may be async; a throw or a rejection drops that packet only, and is logged.
 */
export type RoomHandlers = { [K in MsgCase]?: (clientId: number, value: MsgValue<K>) => void | Promise<void> };

/**
 * A game's room. Subclass it, give the hooks a body, and name the class in the game's `rooms`.
 * `J` is what a client brings when it joins (its name, its account); `S` is the room's snapshot.
 */
export abstract class Room<J = undefined, S = unknown> {
  /** How often onTick runs, per second, on a schedule that does not drift; 0: never. */
  readonly tickHz: number = 0;
  /** The messages the room takes from its members; the client's state sees every message first. */
  readonly messages: RoomHandlers = {};

  /** What a member brings when it joins, as a type only (never set): what `rooms.join<R>` checks a join against. */
  declare readonly joinType?: J;

  constructor(protected readonly ctx: RoomContext) {}

  /** Once, before anyone joins. */
  onCreate(): void {}
  /** The client has been subscribed to the room's topic. */
  abstract onJoin(clientId: number, join: J): void;
  /** The client is leaving (its state moved on, or its connection closed); `send` still reaches it. */
  abstract onLeave(clientId: number): void;
  onTick(): void {}
  /** A member asked for world frames (see RoomContext.replicate): stop sending it the classic per-tick messages. */
  onFrames?(clientId: number): void;
  /**
   * A member's connection dropped and its session is held for a while (it asked for a resume token):
   * it is still a member, and what is sent to it is kept. Freeze its player here if you like; by
   * default it is simply idle.
   */
  onAway?(clientId: number): void;
  /**
   * The member is back (its session resumed) and has been sent what was kept for it: send what it
   * missed of the room's superseded state (what a joining member gets).
   */
  onBack?(clientId: number): void;
  /**
   * What the other members hear, as from a member lost without leaving (in a cluster, its node died):
   * what the game's own leave says. None by default.
   */
  farewell?(clientId: number): Msg | undefined;
  /**
   * A few figures of the room for /healthz, /metrics and the dashboard (players, spores, its tick):
   * `ctx.rooms.figures(id)` gives them on any node; in a cluster, the owner reports them every second
   * and they are what every other node shows of the room.
   */
  figures?(): RoomFigures;
  /** Once, after every member has left: flush what must be kept. */
  onDispose(): void {}
  /**
   * The room's whole state, as plain data that survives JSON (what lets it move to another process:
   * in a cluster, the owner saves it every second). What a member brings when it joins travels as JSON too.
   */
  abstract snapshot(): S;
  /**
   * Takes the state of a snapshot (after onCreate). In a cluster, the members the snapshot's state
   * holds stay members; those whose node died then leave (onLeave), and the others join anew.
   */
  abstract restore(snapshot: S): void;
}
