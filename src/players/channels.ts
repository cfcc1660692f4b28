// Chat channels a player joins by name, its party's channel and direct messages to a friend: each line
// held to the chat's rules (length, rate, an operator's mute), kept in the store (the last lines of
// each channel, read back a page at a time), then sent once to the channel's topic, which spans nodes.
import type { ClientInterfacer } from "../hub/client.ts";
import type { Msg, MsgValue } from "../packets/index.ts";
import type { ChannelRow } from "../store/store.ts";
import type { Notice, PlayersCore, PlayerSession } from "./core.ts";

export const CHANNEL_TOPIC_PREFIX = "ch:";
/** The channel name of a player's party. */
export const PARTY_CHANNEL = "@party";
const CHANNEL_NAME = /^[a-z0-9_-]{1,32}$/;
const DEFAULT_PAGE = 20;
const MAX_PAGE = 50;

/** The refusals of channel_request, channel_send and channel_history_request, word for word (docs/protocol.md). */
export const ChannelReason = {
  unknownAction: "Unknown action: use join or leave",
  badName: "Invalid channel name: 1 to 32 of a-z, 0-9, - and _",
  tooMany: (max: number) => `Too many channels (at most ${max})`,
  notJoined: "Join the channel first",
  notFriend: "You can only message a friend",
  noParty: "You are in no party",
  noTarget: "Name a channel or a friend",
  failed: "Could not do that now: try again later",
} as const;

/** Where a line is kept: the channel's own name, the party's, or the pair's. */
const historyKey = {
  party: (partyId: string) => `party:${partyId}`,
  direct: (a: number, b: number) => `dm:${Math.min(a, b)}:${Math.max(a, b)}`,
};

export class Channels {
  constructor(
    private readonly core: PlayersCore,
    private readonly notify: (userId: number, notice: Notice) => Promise<void>,
  ) {}

  /** The topic the client hears a channel on: its slice of the channel's topic (sliced: see Hub.slicePrefix). */
  private topicOf(client: ClientInterfacer, channel: string): string {
    return this.core.deps.hub.sliceOf(CHANNEL_TOPIC_PREFIX + channel, client.id);
  }

  handle(client: ClientInterfacer, msg: Msg): void {
    if (msg.$case === "channelRequest") this.joinOrLeave(client, msg.value);
    else if (msg.$case === "channelSend") this.send(client, msg.value);
    else if (msg.$case === "channelHistoryRequest") this.history(client, msg.value);
  }

  /** The player's channels, left (its session is over on this node). */
  leaveAll(session: PlayerSession): void {
    for (const name of session.channels) session.client.unsubscribe(this.topicOf(session.client, name));
    session.channels.clear();
  }

  private joinOrLeave(client: ClientInterfacer, { action, channel }: MsgValue<"channelRequest">): void {
    const answer = (reason?: string) => client.socketSend({ $case: "channelResponse", value: { ok: reason === undefined, reason: reason ?? "", action, channel } });
    this.core.request(client, answer, () => answer(ChannelReason.failed), async (session) => {
      if (action !== "join" && action !== "leave") return answer(ChannelReason.unknownAction);
      if (!CHANNEL_NAME.test(channel)) return answer(ChannelReason.badName);
      if (action === "leave") {
        if (session.channels.delete(channel)) client.unsubscribe(this.topicOf(client, channel));
        return answer();
      }
      if (!session.channels.has(channel) && session.channels.size >= this.core.deps.limits.maxChannels) return answer(ChannelReason.tooMany(this.core.deps.limits.maxChannels));
      session.channels.add(channel);
      client.subscribe(this.topicOf(client, channel));
      answer();
    });
  }

  private send(client: ClientInterfacer, { channel, toUserId, text }: MsgValue<"channelSend">): void {
    const refuse = (reason: string) => client.socketSend({ $case: "channelResponse", value: { ok: false, reason, action: "send", channel } });
    // The chat's own rate, not the requests': a line is a chat line.
    const said = this.core.sessionOf(client) && this.core.deps.chat.check(client, text, this.core.deps.now());
    if (said && "refused" in said) return refuse(said.refused);
    this.core.request(
      client,
      refuse,
      () => refuse(ChannelReason.failed),
      async (session) => {
        const { social } = this.core.deps.store;
        const me = session.account;
        const line = (id: number, row: Omit<ChannelRow, "id">, to = 0) => ({ id, channel, senderId: me.userId, senderName: me.name, text: row.text, sentAt: row.sentAt, toUserId: to });
        const row = (key: string): Omit<ChannelRow, "id"> => ({ channel: key, senderId: me.userId, senderName: me.name, text: said!.text, sentAt: this.core.deps.clock() });
        const keep = this.core.deps.limits.historyKeep;
        if (channel === PARTY_CHANNEL) {
          const party = await social.partyOf(me.userId);
          if (!party) return refuse(ChannelReason.noParty);
          const r = row(historyKey.party(party.id));
          const id = await social.postMessage(r, keep);
          this.core.toPlayers(party.members.map((m) => m.userId), { $case: "channelLine", value: line(id, r) });
        } else if (channel === "" && toUserId !== 0) {
          if ((await social.pairState(me.userId, toUserId)) !== "friend") return refuse(ChannelReason.notFriend);
          const r = row(historyKey.direct(me.userId, toUserId));
          const id = await social.postMessage(r, keep);
          const msg: Msg = { $case: "channelLine", value: line(id, r, toUserId) };
          // A player who muted the sender does not get its lines (they stay in the pair's history);
          // one who is away gets a notification, kept before the sender's copy goes out.
          if (!(await social.ignoresOf(toUserId)).includes(me.userId)) {
            if ((await this.core.deps.presence.lookup([toUserId])).has(toUserId)) this.core.toPlayer(toUserId, msg);
            else await this.notify(toUserId, { kind: "message", subject: me.name, content: r.text, senderId: me.userId });
          }
          this.core.toPlayer(me.userId, msg);
        } else if (channel === "") {
          return refuse(ChannelReason.noTarget);
        } else {
          if (!session.channels.has(channel)) return refuse(ChannelReason.notJoined);
          const r = row(channel);
          const id = await social.postMessage(r, keep);
          this.core.deps.hub.publish(0, { $case: "channelLine", value: line(id, r) }, CHANNEL_TOPIC_PREFIX + channel);
        }
      },
      false,
    );
  }

  private history(client: ClientInterfacer, { channel, withUserId, before, limit }: MsgValue<"channelHistoryRequest">): void {
    // On a direct line, to_user_id names its reader: this player, or the friend.
    const answer = (reason: string, lines: ChannelRow[] = [], more = false, me = 0) =>
      client.socketSend({
        $case: "channelHistory",
        value: { channel, withUserId, lines: lines.map((l) => ({ id: l.id, channel, senderId: l.senderId, senderName: l.senderName, text: l.text, sentAt: l.sentAt, toUserId: withUserId === 0 ? 0 : l.senderId === withUserId ? me : withUserId })), more, reason },
      });
    this.core.request(client, answer, () => answer(ChannelReason.failed), async (session) => {
      const { social } = this.core.deps.store;
      const me = session.account.userId;
      let key: string;
      if (channel === PARTY_CHANNEL) {
        const party = await social.partyOf(me);
        if (!party) return answer(ChannelReason.noParty);
        key = historyKey.party(party.id);
      } else if (channel === "" && withUserId !== 0) {
        if ((await social.pairState(me, withUserId)) !== "friend") return answer(ChannelReason.notFriend);
        key = historyKey.direct(me, withUserId);
      } else if (channel === "") {
        return answer(ChannelReason.noTarget);
      } else {
        if (!session.channels.has(channel)) return answer(ChannelReason.notJoined);
        key = channel;
      }
      const size = limit === 0 ? DEFAULT_PAGE : Math.min(limit, MAX_PAGE);
      const rows = await social.history(key, before, size + 1);
      answer("", rows.slice(0, size), rows.length > size, me);
    });
  }
}
