// Players among themselves (docs/players.md) on SQLite and PostgreSQL, over real sockets: friends with
// presence, notifications kept for the next login, chat channels with history, direct messages,
// parties; every refusal with its fixed reason, floods slowed, nobody else disturbed.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ChannelReason } from "../src/players/channels.ts";
import { PlayersReason } from "../src/players/core.ts";
import { FriendReason } from "../src/players/friends.ts";
import { PartyReason } from "../src/players/parties.ts";
import { lobbyState } from "../src/accounts/lobby.ts";
import { TOPIC_SLICES } from "../src/hub/hub.ts";
import { defineState } from "../src/hub/states.ts";
import { newChat, newDenyResponse, newOkResponse, type MsgValue } from "../src/packets/index.ts";
import { PartyMoveReason } from "../src/players/party-moves.ts";
import { defineGame } from "../src/rooms/game.ts";
import { Room } from "../src/rooms/room.ts";
import type { ServerProcess } from "../src/testing/server-process.ts";
import { loginDevice } from "../src/testing/client.ts";
import { TcpProxy } from "../src/testing/tcp-proxy.ts";
import { clusterOnRedis, describeRedis, describeStores, radiusRumble, startTestServer, storeOptions, TestClient, waitFor, type TestServer } from "./helpers.ts";

type Player = { c: TestClient; userId: number; name: string; device: string };

/** A player of the server at `url`: a new account (a device's first login), or the account of `device` again; closed by `clients`' owner. */
async function guest(url: string, clients: TestClient[], device = `players-${crypto.randomUUID()}`): Promise<Player> {
  const c = await TestClient.connect(url);
  clients.push(c);
  const answer = await loginDevice(c, device);
  expect(answer.ok).toBe(true);
  return { c, userId: answer.userId, name: answer.displayName, device };
}

describeStores("players among themselves", (kind) => {
  let srv: TestServer;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    srv = await startTestServer(radiusRumble, { ...(await storeOptions(kind)), maxFriends: 3, maxPartySize: 3 });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await srv.stop();
  });

  const player = (device?: string) => guest(srv.url, clients, device);
  const friend = async (p: Player, action: string, other: { userId?: number; name?: string }) => {
    p.c.send({ $case: "friendRequest", value: { action, userId: other.userId ?? 0, name: other.name ?? "" } });
    return (await p.c.expect("friendResponse")).value;
  };
  const update = async (p: Player) => (await p.c.expect("friendUpdate")).value.friend!;
  const list = async (p: Player) => {
    p.c.send({ $case: "friendsRequest", value: {} });
    return (await p.c.expect("friendsList")).value;
  };
  const befriend = async (a: Player, b: Player) => {
    expect((await friend(a, "add", b)).ok).toBe(true);
    await update(a);
    await update(b);
    expect((await friend(b, "accept", a)).ok).toBe(true);
    await update(b);
    await update(a);
  };
  const party = async (p: Player, action: string, more: Partial<MsgValue<"partyRequest">> = {}) => {
    p.c.send({ $case: "partyRequest", value: { action, userId: 0, name: "", partyId: "", ...more } });
    return (await p.c.expect("partyResponse")).value;
  };

  test("a request by name, its acceptance, and both lists with each other online; a logout and a login are told", async () => {
    const a = await player();
    const b = await player();
    expect(await friend(a, "add", { name: b.name })).toEqual({ ok: true, reason: "", action: "add", userId: b.userId });
    expect(await update(a)).toEqual({ userId: b.userId, name: b.name, state: "sent", online: false, status: "" });
    expect(await update(b)).toEqual({ userId: a.userId, name: a.name, state: "received", online: false, status: "" });
    expect((await friend(b, "accept", { userId: a.userId })).ok).toBe(true);
    expect(await update(b)).toMatchObject({ userId: a.userId, state: "friend", online: true });
    expect(await update(a)).toMatchObject({ userId: b.userId, state: "friend", online: true });
    expect((await list(a)).friends).toEqual([{ userId: b.userId, name: b.name, state: "friend", online: true, status: "" }]);

    await b.c.close();
    expect(await update(a)).toEqual({ userId: b.userId, name: b.name, state: "friend", online: false, status: "" });
    expect((await list(a)).friends[0]!.online).toBe(false);
    const back = await player(b.device);
    expect(await update(a)).toMatchObject({ userId: b.userId, state: "friend", online: true });
    expect((await list(back)).friends).toEqual([{ userId: a.userId, name: a.name, state: "friend", online: true, status: "" }]);
  });

  test("a game's status for a player (ctx.players.setStatus) reaches its online friends at once, and is in their lists", async () => {
    const a = await player();
    const b = await player();
    await befriend(a, b);
    srv.services.players.setStatus(srv.hub.clients.get(a.c.id)!, "in cave 3");
    expect(await update(b)).toEqual({ userId: a.userId, name: a.name, state: "friend", online: true, status: "in cave 3" });
    expect((await list(b)).friends).toEqual([{ userId: a.userId, name: a.name, state: "friend", online: true, status: "in cave 3" }]);
  });

  test("refusals: oneself, nobody, twice, a block (both ways), an unknown action, a full list; nothing else changes", async () => {
    const a = await player();
    const b = await player();
    expect(await friend(a, "add", { userId: a.userId })).toMatchObject({ ok: false, reason: FriendReason.yourself });
    expect(await friend(a, "add", { userId: 987_654_321 })).toMatchObject({ ok: false, reason: PlayersReason.unknownPlayer });
    expect(await friend(a, "add", { name: "x".repeat(500) })).toMatchObject({ ok: false, reason: PlayersReason.unknownPlayer });
    expect(await friend(a, "befriend", b)).toMatchObject({ ok: false, reason: FriendReason.unknownAction });
    expect((await friend(a, "add", b)).ok).toBe(true);
    expect(await friend(a, "add", b)).toMatchObject({ ok: false, reason: FriendReason.sent });
    expect(await friend(a, "accept", b)).toMatchObject({ ok: false, reason: FriendReason.noRequest });
    // b blocks a: a's request goes, and a may not ask again.
    expect((await friend(b, "block", a)).ok).toBe(true);
    expect(await friend(a, "add", b)).toMatchObject({ ok: false, reason: FriendReason.theyBlocked });
    expect(await friend(b, "add", a)).toMatchObject({ ok: false, reason: FriendReason.youBlocked });
    expect((await list(a)).friends).toEqual([]);
    expect((await list(b)).friends).toEqual([{ userId: a.userId, name: a.name, state: "blocked", online: false, status: "" }]);
    expect((await friend(b, "unblock", a)).ok).toBe(true);
    expect(await friend(b, "unblock", a)).toMatchObject({ ok: false, reason: FriendReason.notBlocked });

    // --max-friends 3: a fourth friend is refused, to either side.
    const many = [await player(), await player(), await player()];
    for (const other of many) await befriend(a, other);
    const late = await player();
    expect(await friend(a, "add", late)).toMatchObject({ ok: false, reason: FriendReason.full(3) });
    expect((await friend(late, "add", a)).ok).toBe(true);
    expect(await friend(a, "accept", late)).toMatchObject({ ok: false, reason: FriendReason.full(3) });
    expect((await friend(a, "remove", many[0]!)).ok).toBe(true);
    expect(await friend(a, "remove", many[0]!)).toMatchObject({ ok: false, reason: FriendReason.notListed });
    expect((await friend(a, "accept", late)).ok).toBe(true);
    expect((await list(a)).friends.map((f) => f.userId).sort()).toEqual([many[1]!.userId, many[2]!.userId, late.userId].sort());
  });

  test("a flood of requests is slowed with one reason; the flooder and everyone else go on", async () => {
    const flooder = await player();
    const other = await player();
    for (let i = 0; i < 60; i++) flooder.c.send({ $case: "friendRequest", value: { action: "add", userId: 987_654_000 + i, name: "" } });
    const answers = [];
    for (let i = 0; i < 60; i++) answers.push((await flooder.c.expect("friendResponse")).value.reason);
    expect(answers.filter((r) => r === PlayersReason.slowDown).length).toBeGreaterThan(20);
    expect(answers.filter((r) => r === PlayersReason.unknownPlayer).length).toBeGreaterThan(10);
    other.c.send(newChat("unbothered"));
    await other.c.roundTrip();
    expect((await list(other)).friends).toEqual([]);
  });

  test("what happens while a player is away waits for its next login, in order, once; a game's own notification too", async () => {
    const away = await player();
    const asker = await player();
    await away.c.close();
    expect((await friend(asker, "add", away)).ok).toBe(true);
    await srv.services.players.notify(away.userId, { kind: "gift", subject: "Welcome back", content: JSON.stringify({ gold: 10 }) });
    const back = await player(away.device);
    const first = (await back.c.expect("notification")).value;
    const second = (await back.c.expect("notification")).value;
    expect(first).toMatchObject({ kind: "friend_request", senderId: asker.userId, subject: asker.name });
    expect(second).toMatchObject({ kind: "gift", senderId: 0, subject: "Welcome back", content: '{"gold":10}' });
    expect(second.id).toBeGreaterThan(first.id);
    // The request is on the list too; a second login gets no notification again.
    expect((await list(back)).friends).toMatchObject([{ userId: asker.userId, state: "received" }]);
    await back.c.close();
    const again = await player(away.device);
    await again.c.roundTrip();
    expect(again.c.take("notification")).toEqual([]);
    // Online: at once, not kept.
    await srv.services.players.notify(again.userId, { kind: "gift", subject: "now", content: "" });
    expect((await again.c.expect("notification")).value).toMatchObject({ id: 0, kind: "gift", subject: "now" });
  });

  test("a channel: join, lines to every member (not to others), history a page at a time; refusals", async () => {
    const a = await player();
    const b = await player();
    const outsider = await player();
    const join = async (p: Player, channel: string, action = "join") => {
      p.c.send({ $case: "channelRequest", value: { action, channel } });
      return (await p.c.expect("channelResponse")).value;
    };
    const channel = `tavern-${kind}`;
    expect(await join(a, channel)).toEqual({ ok: true, reason: "", action: "join", channel });
    expect((await join(b, channel)).ok).toBe(true);
    expect(await join(a, "Bad Name!")).toMatchObject({ ok: false, reason: ChannelReason.badName });
    expect(await join(a, channel, "shout")).toMatchObject({ ok: false, reason: ChannelReason.unknownAction });
    for (let i = 1; i <= 25; i++) a.c.send({ $case: "channelSend", value: { channel, toUserId: 0, text: `line ${i}` } });
    const got = [];
    for (let i = 1; i <= 25; i++) got.push((await b.c.expect("channelLine")).value);
    expect(got.map((l) => l.text)).toEqual(Array.from({ length: 25 }, (_, i) => `line ${i + 1}`));
    expect(got[0]).toMatchObject({ channel, senderId: a.userId, senderName: a.name, toUserId: 0 });
    await outsider.c.roundTrip();
    expect(outsider.c.take("channelLine")).toEqual([]);

    b.c.send({ $case: "channelHistoryRequest", value: { channel, withUserId: 0, before: 0, limit: 10 } });
    const page1 = (await b.c.expect("channelHistory")).value;
    expect(page1.lines.map((l) => l.text)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${25 - i}`));
    expect(page1.more).toBe(true);
    b.c.send({ $case: "channelHistoryRequest", value: { channel, withUserId: 0, before: page1.lines.at(-1)!.id, limit: 20 } });
    const page2 = (await b.c.expect("channelHistory")).value;
    expect(page2.lines.map((l) => l.text)).toEqual(Array.from({ length: 15 }, (_, i) => `line ${15 - i}`));
    expect(page2.more).toBe(false);

    outsider.c.send({ $case: "channelSend", value: { channel, toUserId: 0, text: "let me in" } });
    expect((await outsider.c.expect("channelResponse")).value).toMatchObject({ ok: false, action: "send", reason: ChannelReason.notJoined });
    outsider.c.send({ $case: "channelHistoryRequest", value: { channel, withUserId: 0, before: 0, limit: 0 } });
    expect((await outsider.c.expect("channelHistory")).value).toMatchObject({ lines: [], reason: ChannelReason.notJoined });
    a.c.send({ $case: "channelSend", value: { channel, toUserId: 0, text: "y".repeat(srv.config.maxChatLength + 1) } });
    expect((await a.c.expect("channelResponse")).value.reason).toBe(`Chat refused: longer than ${srv.config.maxChatLength} characters`);
    expect((await join(b, channel, "leave")).ok).toBe(true);
    a.c.take("channelLine");
    a.c.send({ $case: "channelSend", value: { channel, toUserId: 0, text: "anyone?" } });
    expect((await a.c.expect("channelLine")).value.text).toBe("anyone?");
    await b.c.roundTrip();
    expect(b.c.take("channelLine")).toEqual([]);
  });

  test("a channel of many, heard in slices: every member gets every line in the order said, one away gets them on its resume", async () => {
    const channel = `hall-${kind}`;
    const proxy = TcpProxy.start(srv.port);
    try {
      const away = await guest(proxy.url, clients);
      const members = [away];
      for (let i = 0; i < 11; i++) members.push(await player());
      // Ids in a row: every slice of the channel's topic has a member.
      expect(new Set(members.map((m) => m.c.id % TOPIC_SLICES)).size).toBe(TOPIC_SLICES);
      for (const m of members) {
        m.c.send({ $case: "channelRequest", value: { action: "join", channel } });
        expect((await m.c.expect("channelResponse")).value.ok).toBe(true);
      }
      away.c.send({ $case: "resumeTokenRequest", value: {} });
      const { token } = (await away.c.expect("resumeToken")).value;
      proxy.cut();
      await waitFor(() => srv.logs.has(`Client ${away.c.id}: Session held for 30 s`), 3000, "the session to be held");

      // Two speakers, their lines interleaved: each line goes out over eight turns of the event loop,
      // the next one starting before the last is done.
      const [x, y] = [members[1]!, members[2]!];
      const said: string[] = [];
      for (let i = 1; i <= 6; i++) {
        for (const [p, who] of [[x, "x"], [y, "y"]] as const) {
          p.c.send({ $case: "channelSend", value: { channel, toUserId: 0, text: `${who}${i}` } });
          said.push(`${who}${i}`);
        }
      }
      const heard = async (c: TestClient, n: number) => {
        const got: string[] = [];
        while (got.length < n) got.push((await c.expect("channelLine")).value.text);
        return got;
      };
      const orders = await Promise.all(members.slice(1).map((m) => heard(m.c, said.length)));
      // Everyone hears them in one order, and each speaker's lines in the order said.
      for (const order of orders) {
        expect(order).toEqual(orders[0]!);
        expect(order.filter((t) => t.startsWith("x"))).toEqual(said.filter((t) => t.startsWith("x")));
        expect(order.filter((t) => t.startsWith("y"))).toEqual(said.filter((t) => t.startsWith("y")));
      }

      const back = await TestClient.connect(srv.url);
      clients.push(back);
      back.send({ $case: "resumeRequest", value: { token } });
      const response = (await back.expect("resumeResponse")).value;
      expect(response).toMatchObject({ ok: true, id: away.c.id });
      expect(await heard(back, said.length)).toEqual(orders[0]!);
      // Still a member: the next line comes live.
      x.c.send({ $case: "channelSend", value: { channel, toUserId: 0, text: "welcome back" } });
      expect(await heard(back, 1)).toEqual(["welcome back"]);
    } finally {
      proxy.stop();
    }
  });

  test("direct messages: to a friend only, a muted sender not delivered, an away friend notified; the pair's history", async () => {
    const a = await player();
    const b = await player();
    const dm = (p: Player, to: Player, text: string) => p.c.send({ $case: "channelSend", value: { channel: "", toUserId: to.userId, text } });
    dm(a, b, "hello?");
    expect((await a.c.expect("channelResponse")).value).toMatchObject({ ok: false, reason: ChannelReason.notFriend });
    await befriend(a, b);
    dm(a, b, "hello friend");
    expect((await b.c.expect("channelLine")).value).toMatchObject({ channel: "", senderId: a.userId, toUserId: b.userId, text: "hello friend" });
    expect((await a.c.expect("channelLine")).value).toMatchObject({ senderId: a.userId, toUserId: b.userId, text: "hello friend" });
    expect((await friend(b, "mute", a)).ok).toBe(true);
    expect((await list(b)).muted).toEqual([a.userId]);
    dm(a, b, "are you there");
    await a.c.expect("channelLine");
    await b.c.roundTrip();
    expect(b.c.take("channelLine")).toEqual([]);
    expect((await friend(b, "unmute", a)).ok).toBe(true);
    await b.c.close();
    dm(a, b, "see you later");
    await a.c.expect("channelLine");
    const back = await player(b.device);
    expect((await back.c.expect("notification")).value).toMatchObject({ kind: "message", senderId: a.userId, subject: a.name, content: "see you later" });
    back.c.send({ $case: "channelHistoryRequest", value: { channel: "", withUserId: a.userId, before: 0, limit: 5 } });
    const history = (await back.c.expect("channelHistory")).value;
    expect(history.lines.map((l) => [l.text, l.senderId, l.toUserId])).toEqual([
      ["see you later", a.userId, b.userId],
      ["are you there", a.userId, b.userId],
      ["hello friend", a.userId, b.userId],
    ]);
  });

  test("an operator's mute refuses channel lines with the chat's reason; a friend's new display name is in the list at once", async () => {
    const a = await player();
    const b = await player();
    await befriend(a, b);
    const channel = `muted-${kind}`;
    a.c.send({ $case: "channelRequest", value: { action: "join", channel } });
    expect((await a.c.expect("channelResponse")).value.ok).toBe(true);
    const muted = await fetch(`http://127.0.0.1:${srv.port}/admin/mute`, { method: "POST", body: JSON.stringify({ userId: a.userId, reason: "spam", until: null }) });
    expect(muted.status).toBe(200);
    a.c.send({ $case: "channelSend", value: { channel, toUserId: 0, text: "buy gold" } });
    expect((await a.c.expect("channelResponse")).value).toMatchObject({ ok: false, action: "send", reason: "Chat refused: muted for good: spam" });
    a.c.send({ $case: "channelSend", value: { channel: "", toUserId: b.userId, text: "buy gold" } });
    expect((await a.c.expect("channelResponse")).value.reason).toBe("Chat refused: muted for good: spam");
    expect((await list(a)).friends[0]!.name).toBe(b.name);
    b.c.send({ $case: "displayNameRequest", value: { name: `Renamed ${kind}` } });
    expect((await b.c.expect("accountResponse")).value.ok).toBe(true);
    expect((await list(a)).friends[0]!.name).toBe(`Renamed ${kind}`);
  });

  test("a party: made, an invitation by name accepted, its chat, the lead handed over, a kick, a full party, leaving; refusals", async () => {
    const lead = await player();
    const b = await player();
    const c = await player();
    const d = await player();
    expect(await party(b, "leave")).toMatchObject({ ok: false, reason: PartyReason.noParty });
    expect(await party(lead, "create")).toEqual({ ok: true, reason: "", action: "create" });
    const made = (await lead.c.expect("partyState")).value;
    expect(made).toMatchObject({ leaderId: lead.userId, members: [{ userId: lead.userId, online: true }] });
    expect(await party(lead, "create")).toMatchObject({ ok: false, reason: PartyReason.inParty });
    expect((await party(lead, "invite", { name: b.name })).ok).toBe(true);
    const invitation = (await b.c.expect("partyInvitation")).value;
    expect(invitation).toMatchObject({ fromId: lead.userId, fromName: lead.name });
    // Another player cannot use b's invitation, nor a forged one.
    expect(await party(c, "accept", { partyId: invitation.partyId })).toMatchObject({ ok: false, reason: PartyReason.badInvitation });
    expect(await party(c, "accept", { partyId: `${made.partyId}.9999999999999.forged` })).toMatchObject({ ok: false, reason: PartyReason.badInvitation });
    expect((await party(b, "accept", { partyId: invitation.partyId })).ok).toBe(true);
    const joined = (await b.c.expect("partyState")).value;
    expect(joined.members.map((m) => m.userId)).toEqual([lead.userId, b.userId]);
    expect((await lead.c.expect("partyState")).value.members).toHaveLength(2);
    expect(await party(b, "invite", { userId: c.userId })).toMatchObject({ ok: false, reason: PartyReason.notLeader });

    b.c.send({ $case: "channelSend", value: { channel: "@party", toUserId: 0, text: "ready" } });
    expect((await lead.c.expect("channelLine")).value).toMatchObject({ channel: "@party", senderId: b.userId, text: "ready" });
    await c.c.roundTrip();
    expect(c.c.take("channelLine")).toEqual([]);

    // --max-party-size 3: c joins, d's invitation is refused.
    expect((await party(lead, "invite", { userId: c.userId })).ok).toBe(true);
    expect((await party(c, "accept", { partyId: (await c.c.expect("partyInvitation")).value.partyId })).ok).toBe(true);
    expect(await party(lead, "invite", { userId: d.userId })).toMatchObject({ ok: false, reason: PartyReason.full(3) });
    expect((await party(lead, "lead", { userId: b.userId })).ok).toBe(true);
    await lead.c.expect("partyState");
    expect((await lead.c.expect("partyState")).value.leaderId).toBe(b.userId);
    expect(await party(lead, "kick", { userId: c.userId })).toMatchObject({ ok: false, reason: PartyReason.notLeader });
    expect((await party(b, "kick", { userId: c.userId })).ok).toBe(true);
    await waitForState(c, (s) => s.partyId === "" && s.members.length === 0);
    expect(await party(b, "kick", { userId: d.userId })).toMatchObject({ ok: false, reason: PartyReason.notMember });
    // The leader leaves: the lead passes to the member who joined first.
    expect((await party(b, "leave")).ok).toBe(true);
    await waitForState(lead, (s) => s.members.length === 1 && s.leaderId === lead.userId);
  });

  test("a party survives a member's dropped connection: its login gets the party back, and the others see it go and come", async () => {
    const lead = await player();
    const m = await player();
    expect((await party(lead, "create")).ok).toBe(true);
    expect((await party(lead, "invite", { userId: m.userId })).ok).toBe(true);
    expect((await party(m, "accept", { partyId: (await m.c.expect("partyInvitation")).value.partyId })).ok).toBe(true);
    await waitForState(lead, (s) => s.members.length === 2 && s.members.every((x) => x.online));
    m.c.ws.close();
    await waitForState(lead, (s) => s.members.some((x) => x.userId === m.userId && !x.online));
    const back = await player(m.device);
    const state = await waitForState(back, (s) => s.members.length === 2);
    expect(state.leaderId).toBe(lead.userId);
    await waitForState(lead, (s) => s.members.every((x) => x.online));
  });

  /** The next party_state of `p` that `ok` accepts (earlier ones skipped). */
  async function waitForState(p: Player, ok: (s: MsgValue<"partyState">) => boolean): Promise<MsgValue<"partyState">> {
    for (;;) {
      const s = (await p.c.expect("partyState")).value;
      if (ok(s)) return s;
    }
  }
});

describeRedis("players among themselves across a cluster", () => {
  const cluster = clusterOnRedis("mmo-players-cluster-");
  const clients: TestClient[] = [];
  afterAll(() => Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined))));
  const player = (node: ServerProcess, device?: string) => guest(node.url, clients, device);
  const ask = async <K extends "friendResponse" | "partyResponse" | "channelResponse">(p: Player, msg: Parameters<TestClient["send"]>[0], answer: K) => {
    p.c.send(msg);
    return (await p.c.expect(answer)).value;
  };
  const nextState = async (p: Player, ok: (s: MsgValue<"partyState">) => boolean) => {
    for (;;) {
      const s = (await p.c.expect("partyState", 5000)).value;
      if (ok(s)) return s;
    }
  };

  test("three nodes: a friend request and its answer, presence, a channel and a party reach players on other nodes; a party outlives its member's node", async () => {
    const [n1, n2, n3] = [await cluster.node("p1"), await cluster.node("p2"), await cluster.node("p3")];
    const a = await player(n1);
    const b = await player(n2);
    const c = await player(n3);

    expect((await ask(a, { $case: "friendRequest", value: { action: "add", userId: 0, name: b.name } }, "friendResponse")).ok).toBe(true);
    expect((await b.c.expect("friendUpdate")).value.friend).toMatchObject({ userId: a.userId, state: "received" });
    expect((await ask(b, { $case: "friendRequest", value: { action: "accept", userId: a.userId, name: "" } }, "friendResponse")).ok).toBe(true);
    let seen = (await a.c.expect("friendUpdate")).value.friend!;
    if (seen.state === "sent") seen = (await a.c.expect("friendUpdate")).value.friend!;
    expect(seen).toMatchObject({ userId: b.userId, state: "friend", online: true });
    a.c.send({ $case: "friendsRequest", value: {} });
    expect((await a.c.expect("friendsList")).value.friends).toEqual([{ userId: b.userId, name: b.name, state: "friend", online: true, status: "" }]);
    await b.c.close();
    expect((await a.c.expect("friendUpdate", 5000)).value.friend).toMatchObject({ userId: b.userId, online: false });
    const b3 = await player(n3, b.device);
    expect((await a.c.expect("friendUpdate", 5000)).value.friend).toMatchObject({ userId: b.userId, online: true });
    b3.c.send({ $case: "friendsRequest", value: {} });
    expect((await b3.c.expect("friendsList")).value.friends).toMatchObject([{ userId: a.userId, online: true }]);

    // A channel: a line said on node 1 reaches its member on node 3, once.
    for (const p of [a, c]) expect((await ask(p, { $case: "channelRequest", value: { action: "join", channel: "hall" } }, "channelResponse")).ok).toBe(true);
    a.c.send({ $case: "channelSend", value: { channel: "hall", toUserId: 0, text: "across" } });
    expect((await c.c.expect("channelLine", 5000)).value).toMatchObject({ channel: "hall", senderId: a.userId, text: "across" });
    await c.c.roundTrip();
    expect(c.c.take("channelLine")).toEqual([]);

    // A party made on node 1, joined from node 3 with an invitation node 1 signed.
    expect((await ask(a, { $case: "partyRequest", value: { action: "create", userId: 0, name: "", partyId: "" } }, "partyResponse")).ok).toBe(true);
    expect((await ask(a, { $case: "partyRequest", value: { action: "invite", userId: c.userId, name: "", partyId: "" } }, "partyResponse")).ok).toBe(true);
    const invitation = (await c.c.expect("partyInvitation", 5000)).value;
    expect((await ask(c, { $case: "partyRequest", value: { action: "accept", userId: 0, name: "", partyId: invitation.partyId } }, "partyResponse")).ok).toBe(true);
    const both = await nextState(a, (s) => s.members.length === 2);
    // Node 3 stops (its players are logged out); the party waits; c's next login, on node 2, has it back.
    await n3.stop();
    await nextState(a, (s) => s.members.some((m) => m.userId === c.userId && !m.online));
    const c2 = await player(n2, c.device);
    expect(await nextState(c2, (s) => s.members.length === 2)).toMatchObject({ partyId: both.partyId, leaderId: a.userId });
    await nextState(a, (s) => s.members.every((m) => m.online));
    a.c.take("channelLine");
    c2.c.send({ $case: "channelSend", value: { channel: "@party", toUserId: 0, text: "back" } });
    expect((await a.c.expect("channelLine", 5000)).value).toMatchObject({ channel: "@party", senderId: c.userId, text: "back" });
  });
});

test("a party moves together: into one cave with a seat for each (or a refusal when it cannot fit one), and into a queue as one entry a match takes whole", async () => {
  /** Caves of 3 and arenas of 3 players matched in a queue; a chat line "/cave" or "/arena" moves the sender's party, "/solo" queues the sender alone. */
  const caves = defineGame({
    name: "party-caves",
    description: "parties into caves and arenas",
    create({ rooms, matches, accounts, players }) {
      class Cave extends Room {
        onJoin() {}
        onLeave() {}
        snapshot() {
          return {};
        }
        restore() {}
      }
      matches.define("arena", { type: "arena", size: 3, onMatched: (client, room) => rooms.join(client, room) });
      const inGame = defineState({
        handleMessage: {
          async chat(client, { msg }) {
            const answer = (reason?: string) => client.socketSend(reason === undefined ? newOkResponse() : newDenyResponse(reason));
            if (msg === "/cave") {
              const moved = await players.moveParty(client, "cave");
              answer("refused" in moved ? moved.refused : undefined);
            } else if (msg === "/arena") answer((await players.queueParty(client, "arena")).refused);
            else if (msg === "/solo") {
              matches.ask("arena", client);
              answer();
            }
          },
        },
        onExit: (client) => rooms.leave(client),
      });
      return {
        states: {
          initial: "Connected",
          states: { Connected: lobbyState(accounts, { afterLogin: (c) => c.setState("InGame") }), InGame: inGame },
          transitions: { Connected: ["InGame"], InGame: ["Connected"] },
        },
        rooms: { cave: { create: (ctx) => new Cave(ctx), capacity: 3 }, arena: (ctx) => new Cave(ctx) },
      };
    },
  });
  const srv = await startTestServer(caves);
  const clients: TestClient[] = [];
  try {
    const player = () => guest(srv.url, clients);
    const ask = async (p: Player, action: string, more: Partial<MsgValue<"partyRequest">> = {}) => {
      p.c.send({ $case: "partyRequest", value: { action, userId: 0, name: "", partyId: "", ...more } });
      return (await p.c.expect("partyResponse")).value;
    };
    const partyOf = async (size: number) => {
      const members = [await player()];
      expect((await ask(members[0]!, "create")).ok).toBe(true);
      for (let i = 1; i < size; i++) {
        const m = await player();
        expect((await ask(members[0]!, "invite", { userId: m.userId })).ok).toBe(true);
        expect((await ask(m, "accept", { partyId: (await m.c.expect("partyInvitation")).value.partyId })).ok).toBe(true);
        members.push(m);
      }
      return members;
    };
    const say = async (p: Player, line: string) => {
      p.c.send(newChat(line));
      const answer = await p.c.nextOf(["okResponse", "denyResponse"]);
      return answer.msg?.$case === "denyResponse" ? answer.msg.value.reason : "ok";
    };
    const roomOf = (p: Player) => srv.rooms.membershipOf(p.c.id)?.id;

    // A cave of 3: a solo player first, then a party of 2 cannot share it with a third: a new cave.
    const solo = await player();
    expect(await say(solo, "/cave")).toBe("ok");
    const two = await partyOf(2);
    expect(await say(two[0]!, "/cave")).toBe("ok");
    expect(roomOf(two[0]!)).toBe(roomOf(two[1]!));
    expect(roomOf(two[0]!)).toBe(roomOf(solo));
    const another = await partyOf(2);
    expect(await say(another[1]!, "/cave")).toBe("ok");
    expect(roomOf(another[0]!)).toBe(roomOf(another[1]!));
    expect(roomOf(another[0]!)).not.toBe(roomOf(solo));
    // A party of 4 fits no cave of 3.
    const four = await partyOf(4);
    expect(await say(four[0]!, "/cave")).toBe(PartyMoveReason.tooBig(3));
    expect(roomOf(four[0]!)).toBeUndefined();
    expect(await say(four[0]!, "/arena")).toBe(PartyMoveReason.tooBigForQueue(3));

    // The arena's queue of 3: a solo waits, a party of 2 completes the match with it; the next solo waits.
    const [s1, s2] = [await player(), await player()];
    const pair = await partyOf(2);
    expect(await say(s1, "/solo")).toBe("ok");
    expect(await say(pair[0]!, "/arena")).toBe("ok");
    await waitFor(() => roomOf(s1) !== undefined && roomOf(pair[1]!) !== undefined);
    expect(new Set([roomOf(s1), roomOf(pair[0]!), roomOf(pair[1]!)]).size).toBe(1);
    expect(roomOf(s1)).toStartWith("arena-m");
    // A party of 2 waits while a solo cannot complete a match with it... until a second solo comes.
    const pair2 = await partyOf(2);
    expect(await say(pair2[0]!, "/arena")).toBe("ok");
    expect(await say(s2, "/solo")).toBe("ok");
    await waitFor(() => roomOf(s2) !== undefined);
    expect(roomOf(pair2[0]!)).toBe(roomOf(s2));
    expect(roomOf(pair2[1]!)).toBe(roomOf(s2));
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await srv.stop();
  }
});

describeRedis("a node's death across a cluster", () => {
  const cluster = clusterOnRedis("mmo-players-death-");
  const clients: TestClient[] = [];
  afterAll(() => Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined))));

  test("a node killed with SIGKILL: its players' friends on another node see them go, and their party too", async () => {
    const [n1, n2] = [await cluster.node("k1"), await cluster.node("k2")];
    const a = await guest(n1.url, clients);
    const b = await guest(n2.url, clients);
    a.c.send({ $case: "friendRequest", value: { action: "add", userId: b.userId, name: "" } });
    expect((await a.c.expect("friendResponse")).value.ok).toBe(true);
    await b.c.expect("friendUpdate", 5000);
    b.c.send({ $case: "friendRequest", value: { action: "accept", userId: a.userId, name: "" } });
    expect((await b.c.expect("friendResponse")).value.ok).toBe(true);
    a.c.send({ $case: "partyRequest", value: { action: "create", userId: 0, name: "", partyId: "" } });
    expect((await a.c.expect("partyResponse")).value.ok).toBe(true);
    a.c.send({ $case: "partyRequest", value: { action: "invite", userId: b.userId, name: "", partyId: "" } });
    expect((await a.c.expect("partyResponse")).value.ok).toBe(true);
    b.c.send({ $case: "partyRequest", value: { action: "accept", userId: 0, name: "", partyId: (await b.c.expect("partyInvitation", 5000)).value.partyId } });
    expect((await b.c.expect("partyResponse")).value.ok).toBe(true);
    a.c.take("friendUpdate");
    a.c.take("partyState");
    n2.proc.kill("SIGKILL");
    // Within the node's expiry (3 s) and a heartbeat.
    for (;;) {
      const { friend } = (await a.c.expect("friendUpdate", 10_000)).value;
      if (friend!.userId === b.userId && !friend!.online) break;
    }
    for (;;) {
      const state = (await a.c.expect("partyState", 10_000)).value;
      if (state.members.some((m) => m.userId === b.userId && !m.online)) break;
    }
  }, 30_000);
});

describeRedis("a party's friendly duel across a cluster", () => {
  const cluster = clusterOnRedis("mmo-party-duel-");
  const clients: TestClient[] = [];
  afterAll(() => Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined))));

  test("Duel: a party of two on two nodes asks for a match as one entry and duels itself; a third player asking meanwhile waits", async () => {
    const [n1, n2] = [await cluster.node("d1", "--game", "duel"), await cluster.node("d2", "--game", "duel")];
    const player = (node: ServerProcess) => guest(node.url, clients);
    const party = async (p: { c: TestClient }, value: Partial<MsgValue<"partyRequest">>) => {
      p.c.send({ $case: "partyRequest", value: { action: "", userId: 0, name: "", partyId: "", ...value } });
      return (await p.c.expect("partyResponse", 5000)).value;
    };
    const lead = await player(n1);
    const mate = await player(n2);
    const stranger = await player(n2);
    expect((await party(lead, { action: "create" })).ok).toBe(true);
    expect((await party(lead, { action: "invite", userId: mate.userId })).ok).toBe(true);
    expect((await party(mate, { action: "accept", partyId: (await mate.c.expect("partyInvitation", 5000)).value.partyId })).ok).toBe(true);
    stranger.c.send({ $case: "matchRequest", value: {} });
    await stranger.c.expect("okResponse");
    lead.c.send({ $case: "matchRequest", value: {} });
    await lead.c.expect("okResponse");
    const leadStart = (await lead.c.expect("matchStart", 5000)).value;
    const mateStart = (await mate.c.expect("matchStart", 5000)).value;
    expect(leadStart.matchId).toBe(mateStart.matchId);
    expect(leadStart.opponentName).toBe(mate.name);
    expect(mateStart.opponentName).toBe(lead.name);
    await stranger.c.roundTrip();
    expect(stranger.c.take("matchStart")).toEqual([]);
  }, 30_000);
});
