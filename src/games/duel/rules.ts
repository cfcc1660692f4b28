// The rules of a duel: rock, paper, scissors; the first to win WINS_NEEDED rounds wins the match.

export const ROCK = 1;
export const PAPER = 2;
export const SCISSORS = 3;
export const WINS_NEEDED = 2;
/** A round a player does not throw in within this long goes to the one who did (or is a draw). */
export const ROUND_SECONDS = 20;
/** A match whose players have not all come within this long is called off. */
export const MATCH_FILL_SECONDS = 10;
/** After this many rounds the match ends: the one with more round wins takes it, else it is a draw. */
export const MAX_ROUNDS = 9;

export const isHand = (hand: number): boolean => hand === ROCK || hand === PAPER || hand === SCISSORS;

/** 1 when `a` beats `b`, -1 when `b` beats `a`, 0 for a draw. */
export function compareHands(a: number, b: number): number {
  if (a === b) return 0;
  return (a === ROCK && b === SCISSORS) || (a === PAPER && b === ROCK) || (a === SCISSORS && b === PAPER) ? 1 : -1;
}
