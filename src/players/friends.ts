// What a change of the friends list does to a pair of players: a pure decision on the pair's two rows
// (and the counts the limits need), taken by the store inside its transaction, so that two requests of
// one pair at once (on one node or two) are decided one after the other.
import type { FriendState, PairDecision, PairView } from "../store/store.ts";

/** The actions of friend_request that change the pair (mute and unmute change the player's mutes only). */
export const PAIR_ACTIONS = ["add", "accept", "decline", "remove", "block", "unblock"] as const;
export type PairAction = (typeof PAIR_ACTIONS)[number];

export interface FriendLimits {
  /** Friends an account may have. */
  maxFriends: number;
  /** Requests an account may have sent and not yet seen answered, and received and not yet answered. */
  maxPending: number;
}

export const DEFAULT_FRIEND_LIMITS: FriendLimits = { maxFriends: 500, maxPending: 100 };

/** The refusals of friend_request, word for word (docs/protocol.md). */
export const FriendReason = {
  loginFirst: "Log in first",
  unknownAction: "Unknown action: use add, accept, decline, remove, block, unblock, mute or unmute",
  unknownPlayer: "No such player",
  yourself: "You cannot do that to yourself",
  already: "Already friends",
  sent: "Request already sent",
  noRequest: "No request from that player",
  notListed: "That player is not on your list",
  theyBlocked: "That player does not take requests from you",
  youBlocked: "You blocked that player: unblock first",
  notBlocked: "That player is not blocked",
  full: (max: number) => `Friends list full (at most ${max})`,
  theirsFull: "That player's friends list is full",
  tooManySent: (max: number) => `Too many requests waiting for an answer (at most ${max})`,
  theirsTooMany: "That player has too many requests waiting",
  slowDown: "Too many requests: slow down",
  failed: "Could not change the friends list now: try again later",
} as const;

/**
 * What the pair's change writes, and its outcome: a refusal's reason, or what each side's row became
 * (`mine` for the asking player, `theirs` for the other, "none" for a row gone) and whether the other
 * should be told.
 */
export type PairOutcome = { refused: string } | { mine: FriendState | "none"; theirs: FriendState | "none" | undefined };

export function decidePair(action: PairAction, pair: PairView, limits: FriendLimits): PairDecision<PairOutcome> {
  const refuse = (refused: string): PairDecision<PairOutcome> => ({ result: { refused } });
  const { ab, ba } = pair;
  const befriend = (): PairDecision<PairOutcome> => {
    if (pair.aFriends >= limits.maxFriends) return refuse(FriendReason.full(limits.maxFriends));
    if (pair.bFriends >= limits.maxFriends) return refuse(FriendReason.theirsFull);
    return { ab: "friend", ba: "friend", result: { mine: "friend", theirs: "friend" } };
  };
  switch (action) {
    case "add":
      if (ab === "blocked") return refuse(FriendReason.youBlocked);
      if (ba === "blocked") return refuse(FriendReason.theyBlocked);
      if (ab === "friend") return refuse(FriendReason.already);
      if (ab === "sent") return refuse(FriendReason.sent);
      // They asked first: adding them back is accepting.
      if (ab === "received") return befriend();
      if (pair.aFriends >= limits.maxFriends) return refuse(FriendReason.full(limits.maxFriends));
      if (pair.aSent >= limits.maxPending) return refuse(FriendReason.tooManySent(limits.maxPending));
      if (pair.bReceived >= limits.maxPending) return refuse(FriendReason.theirsTooMany);
      return { ab: "sent", ba: "received", result: { mine: "sent", theirs: "received" } };
    case "accept":
      return ab === "received" ? befriend() : refuse(FriendReason.noRequest);
    case "decline":
      return ab === "received" ? { ab: null, ba: null, result: { mine: "none", theirs: "none" } } : refuse(FriendReason.noRequest);
    case "remove":
      // A friend, or a request sent (taken back); the other's block, if any, stays.
      if (ab !== "friend" && ab !== "sent") return refuse(FriendReason.notListed);
      return ba === "blocked" ? { ab: null, result: { mine: "none", theirs: undefined } } : { ab: null, ba: null, result: { mine: "none", theirs: "none" } };
    case "block":
      if (ab === "blocked") return { result: { mine: "blocked", theirs: undefined } };
      // The other's row goes (it is no longer a friend, nor asked), unless it blocked this player too.
      return ba === "blocked" || ba === undefined ? { ab: "blocked", result: { mine: "blocked", theirs: undefined } } : { ab: "blocked", ba: null, result: { mine: "blocked", theirs: "none" } };
    case "unblock":
      return ab === "blocked" ? { ab: null, result: { mine: "none", theirs: undefined } } : refuse(FriendReason.notBlocked);
  }
}
