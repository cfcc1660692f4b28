// The reasons the protocol promises a client, word for word: the code's constants are pinned here to
// the literal text, and each literal is the one docs/protocol.md prints (a client may match on them).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ModerationReason } from "../src/accounts/moderation.ts";
import { AccountReason, IdentityReason, Reason } from "../src/accounts/rules.ts";
import { ChatReason } from "../src/hub/chat.ts";
import { ResumeReason } from "../src/hub/resume.ts";
import { ChannelReason } from "../src/players/channels.ts";
import { PlayersReason } from "../src/players/core.ts";
import { FriendReason } from "../src/players/friends.ts";
import { PartyReason } from "../src/players/parties.ts";
import { FramesRefusal } from "../src/rooms/rooms.ts";

const PROTOCOL = readFileSync(join(import.meta.dir, "..", "docs", "protocol.md"), "utf8").replace(/\s+/g, " ");

const PROMISED: [string, string][] = [
  [Reason.usernameEmpty, "Invalid username: empty"],
  [Reason.usernameTooLong, "Invalid username: too long"],
  [Reason.usernameWhitespace, "Invalid username: leading or trailing whitespace"],
  [Reason.usernameInvisible, "Invalid username: control or invisible characters"],
  [Reason.passwordEmpty, "Invalid password: empty"],
  [Reason.passwordTooShort(8), "Invalid password: too short (at least 8 characters)"],
  [Reason.passwordTooLong, "Invalid password: too long (at most 72 bytes)"],
  [Reason.userExists, "User already exists"],
  [Reason.registerFailed, "Failed to register user (internal server error) - please try again later"],
  [Reason.registerLimited, "Too many registrations from your address - please try again later"],
  [Reason.busy, "Server busy - please try again in a moment"],
  [Reason.badLogin, "Incorrect username or password"],
  [Reason.alreadyLoggedIn, "This account is already logged in"],
  [Reason.noSuchPlayer, "No player found with that name"],
  [Reason.usernameReserved, 'Invalid username: "#" starts the names of accounts made without a password'],
  [IdentityReason.deviceId, "Invalid device id: 16 to 128 characters of A-Z, a-z, 0-9, - and _"],
  [IdentityReason.unknownProvider, "Unknown login provider"],
  [IdentityReason.ticketTooLong, "Invalid ticket: at most 4096 bytes"],
  [IdentityReason.ticketRefused, "The provider refused the ticket"],
  [IdentityReason.tooManyTickets, "Too many refused tickets from your address - please try again later"],
  [IdentityReason.providerFailed, "The provider could not check the ticket - please try again later"],
  [IdentityReason.failed, "Failed to log in (internal server error) - please try again later"],
  [PlayersReason.loginFirst, "Log in first"],
  [PlayersReason.slowDown, "Too many requests: slow down"],
  [PlayersReason.unknownPlayer, "No such player"],
  [FriendReason.unknownAction, "Unknown action: use add, accept, decline, remove, block, unblock, mute or unmute"],
  [FriendReason.yourself, "You cannot do that to yourself"],
  [FriendReason.already, "Already friends"],
  [FriendReason.sent, "Request already sent"],
  [FriendReason.noRequest, "No request from that player"],
  [FriendReason.notListed, "That player is not on your list"],
  [FriendReason.theyBlocked, "That player does not take requests from you"],
  [FriendReason.youBlocked, "You blocked that player: unblock first"],
  [FriendReason.notBlocked, "That player is not blocked"],
  [FriendReason.full(500), "Friends list full (at most 500)"],
  [FriendReason.theirsFull, "That player's friends list is full"],
  [FriendReason.tooManySent(100), "Too many requests waiting for an answer (at most 100)"],
  [FriendReason.theirsTooMany, "That player has too many requests waiting"],
  [FriendReason.failed, "Could not change the friends list now: try again later"],
  [PartyReason.unknownAction, "Unknown action: use create, invite, accept, decline, leave, kick or lead"],
  [PartyReason.inParty, "Already in a party"],
  [PartyReason.noParty, "You are in no party"],
  [PartyReason.notLeader, "Only the party's leader can do that"],
  [PartyReason.full(8), "The party is full (at most 8)"],
  [PartyReason.notMember, "That player is not in your party"],
  [PartyReason.theyBlocked, "That player does not take invitations from you"],
  [PartyReason.badInvitation, "That invitation is not valid (expired, or not yours)"],
  [PartyReason.gone, "That party is gone"],
  [PartyReason.failed, "Could not change the party now: try again later"],
  [ChannelReason.unknownAction, "Unknown action: use join or leave"],
  [ChannelReason.badName, "Invalid channel name: 1 to 32 of a-z, 0-9, - and _"],
  [ChannelReason.tooMany(10), "Too many channels (at most 10)"],
  [ChannelReason.notJoined, "Join the channel first"],
  [ChannelReason.notFriend, "You can only message a friend"],
  [ChannelReason.noParty, "You are in no party"],
  [ChannelReason.noTarget, "Name a channel or a friend"],
  [ChannelReason.failed, "Could not do that now: try again later"],
  [AccountReason.nameEmpty, "Invalid display name: empty"],
  [AccountReason.nameTooLong, "Invalid display name: too long"],
  [AccountReason.nameWhitespace, "Invalid display name: leading or trailing whitespace"],
  [AccountReason.nameInvisible, "Invalid display name: control or invisible characters"],
  [ModerationReason.kicked("REASON"), "Kicked by an operator: REASON"],
  [ModerationReason.banned({ reason: "REASON", until: Date.parse("2027-01-01T00:00:00Z") }), "Banned until 2027-01-01T00:00:00.000Z: REASON"],
  [ModerationReason.banned({ reason: "REASON", until: 0 }), "Banned for good: REASON"],
  [AccountReason.loginFirst, "Log in first"],
  [AccountReason.hasPassword, "This account has a username and password already"],
  [AccountReason.deviceTaken, "That device is linked to an account already"],
  [AccountReason.providerTaken, "That player's id at the provider is linked to an account already"],
  [AccountReason.notLinked, "That device is not linked to this account"],
  [AccountReason.lastWayIn, "That is the last way into this account: link another one first"],
  [AccountReason.failed, "Failed to change the account (internal server error) - please try again later"],
  [ResumeReason.unknownToken, "Unknown or used session token"],
  [ResumeReason.expired, "Session expired - please log in again"],
  [ResumeReason.overflowed, "Too much was missed while away - please log in again"],
  [ResumeReason.off, "Session resume is off on this server"],
  [ResumeReason.stillConnected, "That session is still connected"],
  [ResumeReason.cannotMove, "That session cannot move to this server - please log in again"],
  [ResumeReason.tooMany, "Too many resume attempts from your address - please try again later"],
  [ResumeReason.loginFirst, "Log in first to get a session token"],
  [ChatReason.tooLong(500), "Chat refused: longer than 500 characters"],
  [ChatReason.muted({ reason: "REASON", until: 0 }), "Chat refused: muted for good: REASON"],
  [ChatReason.muted({ reason: "REASON", until: Date.parse("2027-01-01T00:00:00Z") }), "Chat refused: muted until 2027-01-01T00:00:00.000Z: REASON"],
  [FramesRefusal.notInWorld, "Not in a world: log in and enter one first"],
];

test("every reason a client is promised is the text docs/protocol.md prints, word for word", () => {
  for (const [constant, literal] of PROMISED) {
    expect(constant).toBe(literal);
    expect(`${literal}: ${PROTOCOL.includes(literal)}`).toBe(`${literal}: true`);
  }
});
