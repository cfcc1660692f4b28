// Players among themselves (docs/players.md): friends with presence, parties, chat channels and
// direct messages, notifications kept for the next login. All of it is in the store, so that it holds
// across nodes and restarts; a player is reached on its own topic, wherever it is connected.
import type { ClientInterfacer } from "../hub/client.ts";
import { errorText } from "../log.ts";
import { encodePacket, type Msg, type MsgValue } from "../packets/index.ts";
import type { Account, FriendRow, FriendState, PartyRow } from "../store/store.ts";
import { Channels } from "./channels.ts";
import { PlayersCore, playerTopic, PlayersReason, type Notice, type PlayerSession, type PlayersDeps } from "./core.ts";
import { decidePair, FriendReason, PAIR_ACTIONS, type PairAction } from "./friends.ts";
import { PartyMoves, type PartyRoomHandler } from "./party-moves.ts";
import { Parties } from "./parties.ts";

export type { Notice } from "./core.ts";

/** Notifications delivered at a login, at most (the rest at the next). */
const NOTIFICATIONS_PER_LOGIN = 500;
/** What a game's notification may weigh (kind, subject and content together). */
export const MAX_NOTIFICATION_BYTES = 4096;

type FriendMsg = MsgValue<"friendsList">["friends"][number];

export class Players {
  private readonly core: PlayersCore;
  readonly channels: Channels;
  readonly parties: Parties;
  /** A party moving together into a room or a queue. */
  readonly moves: PartyMoves;
  /** Players whose going away is still being told: a login that follows is told after it. */
  private readonly leaving = new Map<number, Promise<void>>();

  constructor(deps: PlayersDeps) {
    this.core = new PlayersCore(deps);
    this.channels = new Channels(this.core, (userId, notice) => this.notify(userId, notice));
    this.parties = new Parties(this.core, (userId, notice) => this.notify(userId, notice));
    this.moves = new PartyMoves(this.core);
  }

  /** Where a party's moved members go (by default: into the room); set in the game's create. */
  onPartyRoom(handler: PartyRoomHandler): void {
    this.moves.onPartyRoom(handler);
  }

  /**
   * Moves the client and the online members of its party (the client alone without one) into one room
   * of `type` with a seat for each, on whichever node each is; resolves to the room's id, or to the
   * reason when the party cannot fit one.
   */
  moveParty(client: ClientInterfacer, type: string): Promise<{ room: string } | { refused: string }> {
    return this.moves.move(client, type);
  }

  /** Puts the client and its party's online members into the queue as one entry, which a match takes whole. */
  queueParty(client: ClientInterfacer, queue: string, filter = ""): Promise<{ refused?: string }> {
    return this.moves.queue(client, queue, filter);
  }

  /** The client of the account, if it is logged in on this node. */
  clientOf(userId: number): ClientInterfacer | undefined {
    return this.core.sessions.get(userId)?.client;
  }

  /** A login on this node: the player listens on its topic, its friends are told, its kept notifications and its party reach it. */
  online(client: ClientInterfacer, account: Account): void {
    const session = this.core.open(client, account);
    client.subscribe(playerTopic(account.userId));
    this.core.deps.presence.set(account.userId, session.status);
    session.queue = (this.leaving.get(account.userId) ?? session.queue).then(async () => {
      try {
        await this.announce(session, true);
        await this.deliverKept(session);
        await this.parties.presenceChanged(account.userId);
      } catch (err) {
        client.log.error(`Could not tell the friends of account ${account.userId} or deliver its notifications: ${errorText(err)}`);
      }
    });
  }

  /** A logout (or a session's end) on this node: its friends and party are told. */
  offline(client: ClientInterfacer, account: Account): void {
    const session = this.core.sessions.get(account.userId);
    if (session?.client !== client) return;
    this.forget(session);
    this.core.deps.presence.set(account.userId, undefined);
    const told = session.queue.then(async () => {
      try {
        await this.announce(session, false);
        await this.parties.presenceChanged(account.userId);
      } catch (err) {
        client.log.warn(`Could not tell the friends of account ${account.userId} that it left: ${errorText(err)}`);
      }
    });
    this.leaving.set(account.userId, told);
    void told.then(() => {
      if (this.leaving.get(account.userId) === told) this.leaving.delete(account.userId);
    });
  }

  /** The session moved to another node (a resume there): this node forgets it without telling anyone. */
  moved(client: ClientInterfacer, account: Account): void {
    const session = this.core.sessions.get(account.userId);
    if (session?.client !== client) return;
    this.forget(session);
    this.core.deps.presence.movedAway(account.userId);
  }

  /** What the player's friends see as where it is (a room, "in a match"): a game's choice, "" at first. */
  setStatus(client: ClientInterfacer, status: string): void {
    const session = this.core.sessionOf(client);
    if (!session || session.status === status) return;
    session.status = status;
    this.core.deps.presence.set(session.account.userId, status);
    session.queue = session.queue.then(() => this.announce(session, true).catch((err: unknown) => client.log.warn(`Could not tell friends a status: ${errorText(err)}`)));
  }

  /**
   * Tells a player something (a game's notification, or the framework's: a friend request, an
   * invitation, a message): at once when it is online, else kept for its next login.
   */
  async notify(userId: number, notice: Notice): Promise<void> {
    const { kind, subject, content, senderId = 0 } = notice;
    if (Buffer.byteLength(kind) + Buffer.byteLength(subject) + Buffer.byteLength(content) > MAX_NOTIFICATION_BYTES) {
      throw new RangeError(`a notification weighs at most ${MAX_NOTIFICATION_BYTES} bytes`);
    }
    const createdAt = this.core.deps.clock();
    if ((await this.core.deps.presence.lookup([userId])).has(userId)) {
      this.core.toPlayer(userId, { $case: "notification", value: { id: 0, kind, senderId, subject, content, createdAt } });
      return;
    }
    await this.core.deps.store.social.addNotification({ userId, kind, senderId, subject, content, createdAt });
  }

  /** The player's party (its id, leader and members in the order they joined), if it is in one. */
  partyOf(userId: number): Promise<PartyRow | undefined> {
    return this.core.deps.store.social.partyOf(userId);
  }

  /** The framework's messages of players among themselves, in any state: true when `msg` was one. */
  handle(client: ClientInterfacer, msg: Msg): boolean {
    switch (msg.$case) {
      case "friendRequest":
        this.friendRequest(client, msg.value);
        return true;
      case "friendsRequest": {
        const refuse = (reason: string) => client.socketSend({ $case: "friendResponse", value: { ok: false, reason, action: "list", userId: 0 } });
        this.core.request(client, refuse, () => refuse(FriendReason.failed), (session) => this.sendList(session));
        return true;
      }
      case "partyRequest":
        this.parties.handle(client, msg.value);
        return true;
      case "channelRequest":
      case "channelSend":
      case "channelHistoryRequest":
        this.channels.handle(client, msg);
        return true;
      default:
        return false;
    }
  }

  private friendRequest(client: ClientInterfacer, { action, userId, name }: MsgValue<"friendRequest">): void {
    const answer = (reason?: string, otherId = 0) => client.socketSend({ $case: "friendResponse", value: { ok: reason === undefined, reason: reason ?? "", action, userId: otherId } });
    this.core.request(
      client,
      (reason) => answer(reason),
      () => answer(FriendReason.failed),
      async (session) => {
        const pairAction = PAIR_ACTIONS.includes(action as PairAction) ? (action as PairAction) : undefined;
        if (!pairAction && action !== "mute" && action !== "unmute") return answer(FriendReason.unknownAction);
        const other = await this.core.resolve(userId, name);
        if (!other) return answer(PlayersReason.unknownPlayer);
        const me = session.account;
        if (other.userId === me.userId) return answer(FriendReason.yourself, other.userId);
        if (!pairAction) {
          await this.core.deps.store.social.setIgnore(me.userId, other.userId, action === "mute");
          this.core.friendsChanged([me.userId]);
          client.log.info(`Account ${me.userId} ${action}d account ${other.userId}`);
          return answer(undefined, other.userId);
        }
        const { limits } = this.core.deps;
        const outcome = await this.core.deps.store.social.changePair(me.userId, other.userId, (pair) => decidePair(pairAction, pair, limits));
        if ("refused" in outcome) return answer(outcome.refused, other.userId);
        this.core.friendsChanged([me.userId, other.userId]);
        const online = await this.core.deps.presence.lookup([me.userId, other.userId]);
        // A request, or its acceptance, waits for a player who is away: kept before the answer, so
        // that what the asker does next is kept after it.
        const kind = pairAction === "add" || pairAction === "accept" ? (outcome.theirs === "received" ? "friend_request" : "friend_accepted") : undefined;
        if (kind && !online.has(other.userId)) await this.notify(other.userId, { kind, subject: me.name, content: "", senderId: me.userId });
        answer(undefined, other.userId);
        const both = outcome.mine === "friend";
        client.socketSend({ $case: "friendUpdate", value: { friend: row(other.userId, other.name, outcome.mine, both && online.get(other.userId)) } });
        if (outcome.theirs !== undefined) this.core.toPlayer(other.userId, { $case: "friendUpdate", value: { friend: row(me.userId, me.name, outcome.theirs, both && online.get(me.userId)) } });
      },
    );
  }

  /** The friends list, with presence; built again only when the list or (on a server alone) anyone's presence changed. */
  private async sendList(session: PlayerSession): Promise<void> {
    const { presence } = this.core.deps;
    const version = presence.version;
    if (version !== undefined && session.list?.presence === version) return session.client.sendBytes(session.list.bytes);
    const { rows, muted } = await this.core.friendsOf(session);
    const online = await presence.lookup(rows.filter((r) => r.state === "friend").map((r) => r.userId));
    const msg: Msg = { $case: "friendsList", value: { friends: rows.map((r: FriendRow) => row(r.userId, r.name, r.state, r.state === "friend" && online.get(r.userId))), muted } };
    const bytes = encodePacket(session.client.id, msg);
    this.core.deps.hub.stats.packetOut(msg.$case, bytes.length);
    if (version !== undefined && presence.version === version && session.friends) session.list = { bytes, presence: version };
    session.client.sendBytes(bytes);
  }

  /**
   * A node of the cluster died with these players online (this node took them to tell): their online
   * friends, wherever they are, see them go, and so do their parties.
   */
  async goneWithNode(userIds: number[]): Promise<void> {
    const { store, presence } = this.core.deps;
    for (const userId of userIds) {
      // One that resumed its session on another node meanwhile is not gone.
      if ((await presence.lookup([userId])).has(userId)) continue;
      const [player] = await store.findPlayers({ id: userId });
      if (!player) continue;
      const friends = (await store.social.friendsOf(userId)).filter((r) => r.state === "friend").map((r) => r.userId);
      const online = await presence.lookup(friends);
      if (online.size > 0) this.core.toPlayers(online.keys(), { $case: "friendUpdate", value: { friend: row(userId, player.name, "friend", false) } });
      await this.parties.presenceChanged(userId);
    }
  }

  /** Another node changed these players' friends lists (none named: anyone's may have changed). */
  friendsChangedElsewhere(userIds: number[]): void {
    this.core.dropFriends(userIds);
  }

  /** A player's display name changed: every friends list kept may show the old one. */
  renamed(): void {
    this.core.friendsChanged([]);
  }

  /** Tells the player's online friends that it came online (with its status) or went away. */
  private async announce(session: PlayerSession, isOnline: boolean): Promise<void> {
    const { account } = session;
    const friends = (await this.core.friendsOf(session)).rows.filter((r) => r.state === "friend").map((r) => r.userId);
    if (friends.length === 0) return;
    const online = await this.core.deps.presence.lookup(friends);
    this.core.toPlayers(online.keys(), { $case: "friendUpdate", value: { friend: row(account.userId, account.name, "friend", isOnline && session.status) } });
  }

  /** The notifications kept while the player was away, oldest first, each once. */
  private async deliverKept(session: PlayerSession): Promise<void> {
    const kept = await this.core.deps.store.social.takeNotifications(session.account.userId, NOTIFICATIONS_PER_LOGIN);
    for (const n of kept) session.client.socketSend({ $case: "notification", value: { id: n.id, kind: n.kind, senderId: n.senderId, subject: n.subject, content: n.content, createdAt: n.createdAt } });
    if (kept.length > 0) session.client.log.info(`Delivered ${kept.length} kept notification(s) to account ${session.account.userId}`);
  }

  private forget(session: PlayerSession): void {
    this.core.sessions.delete(session.account.userId);
    session.client.unsubscribe(playerTopic(session.account.userId));
    this.channels.leaveAll(session);
  }
}

/** A row of the friends list; `status` false (or undefined) for a player not online or not a friend. */
function row(userId: number, name: string, state: FriendState | "none", status: string | false | undefined): FriendMsg {
  const online = typeof status === "string";
  return { userId, name, state, online, status: online ? status : "" };
}
