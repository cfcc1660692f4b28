// One match of two players, as a room: made when two players ask for a match, disposed when it ends.
// Several run at once, each with its own topic, so a match's rounds reach only its two players. The
// result goes to both players' records and the wins board.
import { errorText } from "../../log.ts";
import { Room, type RoomContext, type RoomHandlers } from "../../rooms/room.ts";
import type { Leaderboard } from "../../store/leaderboards.ts";
import type { Collection } from "../../store/storage.ts";
import { addResult, type DuelRecord, type Outcome } from "./records.ts";
import { compareHands, isHand, MATCH_FILL_SECONDS, MAX_ROUNDS, ROUND_SECONDS, WINS_NEEDED } from "./rules.ts";

export const DUEL_ROOM = "duel";
/** The state the players go back to when the match is over. */
export const AFTER_MATCH_STATE = "Ready";

export interface Duelist {
  name: string;
  /** The account, whose record the result goes to. */
  userId: number;
}

export interface DuelSnapshot {
  round: number;
  players: { id: number; name: string; userId: number; wins: number; hand: number }[];
  over: boolean;
}

interface Seat {
  id: number;
  name: string;
  userId: number;
  wins: number;
  /** 0 until the player throws in this round. */
  hand: number;
}

export class DuelRoom extends Room<Duelist, DuelSnapshot> {
  private seats: Seat[] = [];
  private round = 1;
  private over = false;
  private roundTimer: Timer | undefined;

  override readonly messages: RoomHandlers = {
    duelThrow: (id, { hand }) => this.throwHand(id, hand),
  };

  constructor(
    ctx: RoomContext,
    private readonly records: Collection<DuelRecord>,
    private readonly wins: Leaderboard,
  ) {
    super(ctx);
  }

  /** A matched player who never comes (its connection closed meanwhile): the others go back to Ready, nothing recorded. */
  override onCreate(): void {
    this.ctx.setTimeout(() => {
      if (this.seats.length >= 2 || this.over) return;
      this.over = true;
      for (const seat of this.seats) this.ctx.setState(seat.id, AFTER_MATCH_STATE);
      this.ctx.dispose();
    }, MATCH_FILL_SECONDS * 1000);
  }

  /** The room's id, which the players' InMatch state joins. */
  get matchId(): string {
    return this.ctx.id;
  }

  onJoin(clientId: number, { name, userId }: Duelist): void {
    this.seats.push({ id: clientId, name, userId, wins: 0, hand: 0 });
    if (this.seats.length < 2) return;
    const [a, b] = this.seats as [Seat, Seat];
    for (const [me, them] of [
      [a, b],
      [b, a],
    ] as const) {
      this.ctx.send(me.id, { $case: "matchStart", value: { matchId: this.ctx.id, opponentId: them.id, opponentName: them.name, winsNeeded: WINS_NEEDED } });
    }
    this.startRound();
  }

  /** A player who leaves a match still running forfeits it. */
  onLeave(clientId: number): void {
    const leaver = this.seats.find((s) => s.id === clientId);
    const other = this.seats.find((s) => s.id !== clientId);
    this.seats = this.seats.filter((s) => s.id !== clientId);
    if (this.over || !other || !leaver) return;
    void this.record(leaver, "loss");
    this.finish(other.id, "opponent left");
  }

  override onDispose(): void {
    if (this.roundTimer) this.ctx.clearTimer(this.roundTimer);
  }

  snapshot(): DuelSnapshot {
    return { round: this.round, over: this.over, players: this.seats.map((s) => ({ ...s })) };
  }

  /** The match as it was (a restart that kept the game, a failover): its round starts its clock again, whole. */
  restore(snapshot: DuelSnapshot): void {
    this.round = snapshot.round;
    this.over = snapshot.over;
    this.seats = snapshot.players.map((p) => ({ ...p }));
    if (!this.over && this.seats.length >= 2) this.startRound();
  }

  private throwHand(clientId: number, hand: number): void {
    const seat = this.seats.find((s) => s.id === clientId);
    if (!seat || this.over || this.seats.length < 2) return;
    if (!isHand(hand) || seat.hand !== 0) {
      this.ctx.log.debug(`Refused a throw of ${hand} from client ${clientId}`);
      return;
    }
    seat.hand = hand;
    if (this.seats.every((s) => s.hand !== 0)) this.endRound();
  }

  private startRound(): void {
    if (this.roundTimer) this.ctx.clearTimer(this.roundTimer);
    this.roundTimer = this.ctx.setTimeout(() => this.endRound(), ROUND_SECONDS * 1000);
  }

  /** Scores the round: a missing hand loses to any hand; two missing hands are a draw. */
  private endRound(): void {
    const [a, b] = this.seats as [Seat, Seat];
    const outcome = a.hand === 0 || b.hand === 0 ? Math.sign(a.hand - b.hand) : compareHands(a.hand, b.hand);
    const winner = outcome > 0 ? a : outcome < 0 ? b : undefined;
    if (winner) winner.wins++;
    this.ctx.publish(0, {
      $case: "roundResult",
      value: { round: this.round, winnerId: winner?.id ?? 0, hands: this.seats.map((s) => ({ playerId: s.id, hand: s.hand })) },
    });
    for (const seat of this.seats) seat.hand = 0;
    if (winner && winner.wins >= WINS_NEEDED) return this.finish(winner.id, `won ${winner.wins} rounds`);
    if (this.round >= MAX_ROUNDS) {
      const leader = a.wins === b.wins ? undefined : a.wins > b.wins ? a : b;
      return this.finish(leader?.id ?? 0, leader ? `more rounds won after ${MAX_ROUNDS}` : `a draw after ${MAX_ROUNDS} rounds`);
    }
    this.round++;
    this.startRound();
  }

  /** Tells both players who won (0: a draw), records the result, sends them back to their lobby, and closes the room. */
  private finish(winnerId: number, reason: string): void {
    this.over = true;
    this.ctx.publish(0, { $case: "matchOver", value: { winnerId, reason } });
    for (const seat of this.seats) void this.record(seat, winnerId === 0 ? "draw" : seat.id === winnerId ? "win" : "loss");
    for (const id of this.seats.map((s) => s.id)) this.ctx.setState(id, AFTER_MATCH_STATE);
    this.ctx.dispose();
  }

  private async record(seat: Seat, outcome: Outcome): Promise<void> {
    if (outcome === "win") void this.wins.submit(seat.userId, 1, { name: seat.name });
    try {
      await addResult(this.records, seat.userId, outcome);
    } catch (err) {
      this.ctx.log.error(`The ${outcome} of ${seat.name} was not recorded: ${errorText(err)}`);
    }
  }
}
