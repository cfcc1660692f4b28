// What an operator can do to a player, through the admin API behind the admin token, on SQLite and
// PostgreSQL and across the nodes of a cluster: find, kick, ban until a time or for good, lift a ban;
// every action in the audit log; every bad request refused with its reason, nothing changed.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ModerationReason } from "../src/accounts/moderation.ts";
import { AdminError } from "../src/http/admin.ts";
import { newChat } from "../src/packets/index.ts";
import type { ServerProcess } from "../src/testing/server-process.ts";
import { clusterOf, clusterOnRedis, describeRedis, describeStores, login, lookUpHiscore, radiusRumble, register, startTestServer, storeOptions, TestClient, waitFor, type TestServer } from "./helpers.ts";

const TOKEN = "operator-secret-0123456789";

/** An admin API call: the status and the JSON answer. */
async function admin(port: number, path: string, body?: unknown, token = TOKEN): Promise<{ status: number; json: Record<string, any> }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: response.status, json };
}

describeStores("the operator", (kind) => {
  let srv: TestServer;
  let players = 0;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    srv = await startTestServer(radiusRumble, { ...(await storeOptions(kind)), adminToken: TOKEN });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await srv.stop();
  });
  /** A registered player, logged in (in the world). */
  async function player(): Promise<{ c: TestClient; name: string; userId: number }> {
    const c = await TestClient.connect(srv.url);
    clients.push(c);
    const name = `Op${kind}${++players}`;
    expect(await register(c, name, "password")).toBe("ok");
    expect(await login(c, name, "password")).toBe("ok");
    const userId = (await srv.services.store.findAccount(name))!.userId;
    return { c, name, userId };
  }

  test("find a player by id, name or device: its account, devices, ban and connection (state, room, address)", async () => {
    const { c, name, userId } = await player();
    const byName = await admin(srv.port, `/admin/players?name=${name.toUpperCase()}`);
    expect(byName.status).toBe(200);
    expect(byName.json.players).toHaveLength(1);
    expect(byName.json.players[0]).toMatchObject({ userId, username: name.toLowerCase(), name, devices: [], ban: null, online: [{ clientId: c.id, state: "InGame", address: "127.0.0.1", room: "world" }] });
    expect((await admin(srv.port, `/admin/players?id=${userId}`)).json.players[0].userId).toBe(userId);
    const device = `operator-device-${kind}-${crypto.randomUUID()}`;
    const guest = await TestClient.connect(srv.url);
    clients.push(guest);
    guest.send({ $case: "deviceLoginRequest", value: { deviceId: device, color: 0 } });
    const made = (await guest.expect("identityResponse")).value;
    expect((await admin(srv.port, `/admin/players?device=${device}`)).json.players).toMatchObject([{ userId: made.userId, devices: [device] }]);
    expect((await admin(srv.port, "/admin/players?id=999999999")).json.players).toEqual([]);
  });

  test("a kick closes the player's connection with the reason (1008, no reconnect), and is in the audit log", async () => {
    const { c, userId } = await player();
    const kicked = await admin(srv.port, "/admin/kick", { userId, reason: "spamming the lobby", operator: "alice" });
    expect(kicked.status).toBe(200);
    const closed = await c.closed;
    expect(closed).toEqual({ code: 1008, reason: ModerationReason.kicked("spamming the lobby") });
    expect(closed.reason).toBe("Kicked by an operator: spamming the lobby");
    const { entries } = (await admin(srv.port, "/admin/audit?limit=5")).json;
    expect(entries[0]).toMatchObject({ operator: "alice", action: "kick", target: userId, before: null, after: { reason: "spamming the lobby" } });
    expect(entries[0].atText).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  test("a session held while its client is away is shown as held; a kick ends it, and its token resumes nothing", async () => {
    const { c, userId } = await player();
    c.send({ $case: "resumeTokenRequest", value: {} });
    const { token } = (await c.expect("resumeToken")).value;
    await c.close(4000);
    await waitFor(async () => (await admin(srv.port, `/admin/players?id=${userId}`)).json.players[0].online[0]?.held === true, 3000, "the session to be held");
    expect((await admin(srv.port, "/admin/kick", { userId, reason: "gone for good" })).status).toBe(200);
    expect((await admin(srv.port, `/admin/players?id=${userId}`)).json.players[0].online).toEqual([]);
    const back = await TestClient.connect(srv.url);
    clients.push(back);
    back.send({ $case: "resumeRequest", value: { token } });
    expect((await back.expect("resumeResponse")).value.ok).toBe(false);
  });

  test("a ban until a time: put out, refused at login with the reason and the end, lifted at its end; a ban for good; an unban", async () => {
    const { c, name, userId } = await player();
    const until = new Date(Date.now() + 1500).toISOString();
    expect((await admin(srv.port, "/admin/ban", { userId, reason: "cheating", until })).status).toBe(200);
    expect((await c.closed).reason).toBe(`Banned until ${until}: cheating`);
    const again = await TestClient.connect(srv.url);
    clients.push(again);
    expect(await login(again, name, "password")).toBe(`Banned until ${until}: cheating`);
    expect((await admin(srv.port, `/admin/players?id=${userId}`)).json.players[0].ban).toMatchObject({ reason: "cheating", untilText: until, operator: "admin" });
    // At its end, the ban is lifted.
    await waitFor(async () => (await login(again, name, "password")) === "ok", 5000, "the ban to end");
    await again.close();
    // For good, then lifted by an operator.
    expect((await admin(srv.port, "/admin/ban", { userId, reason: "for good", until: null })).status).toBe(200);
    const third = await TestClient.connect(srv.url);
    clients.push(third);
    expect(await login(third, name, "password")).toBe("Banned for good: for good");
    expect((await admin(srv.port, "/admin/unban", { userId })).json.player.ban).toBeNull();
    expect(await login(third, name, "password")).toBe("ok");
    const actions = (await admin(srv.port, "/admin/audit?limit=3")).json.entries.map((e: { action: string; target: number; before: unknown }) => [e.action, e.target, e.before === null]);
    expect(actions).toEqual([["unban", userId, false], ["ban", userId, true], ["ban", userId, true]]);
  });

  test("a mute: the player's chat lines are refused with the reason, at once and after a new login; others chat on; an unmute lets it speak", async () => {
    const { c, name, userId } = await player();
    const listener = await player();
    expect((await admin(srv.port, "/admin/mute", { userId, reason: "insults", until: null })).json.player.mute).toMatchObject({ reason: "insults", untilText: "for good" });
    c.send(newChat("can you hear me"));
    expect((await c.expect("denyResponse")).value.reason).toBe("Chat refused: muted for good: insults");
    listener.c.send(newChat("I can"));
    expect((await c.expect("chat")).value.msg).toBe("I can");
    // A new login of the account is muted too.
    await c.close();
    const again = await TestClient.connect(srv.url);
    clients.push(again);
    expect(await login(again, name, "password")).toBe("ok");
    again.send(newChat("still muted?"));
    expect((await again.expect("denyResponse")).value.reason).toBe("Chat refused: muted for good: insults");
    expect((await admin(srv.port, "/admin/unmute", { userId })).json.player.mute).toBeNull();
    again.send(newChat("free again"));
    expect((await listener.c.expect("chat")).value.msg).toBe("free again");
    expect((await admin(srv.port, "/admin/audit?limit=2")).json.entries.map((e: { action: string }) => e.action)).toEqual(["unmute", "mute"]);
  });

  test("a player's storage: read, listed, corrected with the game's version check, deleted; each write audited with before and after", async () => {
    const { userId } = await player();
    const wallets = srv.services.storage.collection<{ gold: number }>("wallets");
    const put = await wallets.put("main", { gold: 5 }, { owner: userId });
    if (!put.ok) throw new Error("no wallet");
    const read = await admin(srv.port, `/admin/storage?collection=wallets&owner=${userId}&key=main`);
    expect(read.json.object).toMatchObject({ collection: "wallets", key: "main", owner: userId, value: { gold: 5 }, version: put.versions[0] });
    expect((await admin(srv.port, `/admin/storage?collection=wallets&owner=${userId}`)).json.objects.map((o: { key: string }) => o.key)).toEqual(["main"]);
    // A stale version is a conflict, as in the game: nothing written.
    const stale = await admin(srv.port, "/admin/storage", { collection: "wallets", owner: userId, key: "main", value: { gold: 500 }, ifVersion: `${put.versions[0]}9`, operator: "bob" });
    expect(stale.status).toBe(409);
    expect(stale.json.error).toBe("conflict");
    const fixed = await admin(srv.port, "/admin/storage", { collection: "wallets", owner: userId, key: "main", value: { gold: 50 }, ifVersion: put.versions[0], operator: "bob" });
    expect(fixed.status).toBe(200);
    expect((await wallets.get("main", userId))!.value).toEqual({ gold: 50 });
    expect((await admin(srv.port, "/admin/storage/delete", { collection: "wallets", owner: userId, key: "main", operator: "bob" })).status).toBe(200);
    expect(await wallets.get("main", userId)).toBeUndefined();
    expect((await admin(srv.port, `/admin/storage?collection=wallets&owner=${userId}&key=main`)).status).toBe(404);
    const [deleted, written] = (await admin(srv.port, "/admin/audit?limit=2")).json.entries;
    expect(written).toMatchObject({ operator: "bob", action: "storage-put", target: userId, before: { key: "main", value: { gold: 5 } }, after: { value: { gold: 50 } } });
    expect(deleted).toMatchObject({ action: "storage-delete", before: { value: { gold: 50 } }, after: null });
    // Bad input: refused, nothing written.
    expect((await admin(srv.port, "/admin/storage", { collection: "wallets", owner: userId, key: "main", value: [1] })).json.error).toBe(AdminError.value);
    expect((await admin(srv.port, "/admin/storage", { collection: "bad name!", owner: userId, key: "main", value: {} })).status).toBe(400);
    expect((await admin(srv.port, `/admin/storage?collection=wallets&owner=-3`)).json.error).toBe(AdminError.owner);
    expect((await admin(srv.port, `/admin/storage?collection=wallets&owner=${userId}&limit=abc`)).json.error).toBe(AdminError.storageLimit);
    expect(await wallets.get("main", userId)).toBeUndefined();
  });

  test("a device's account banned is refused at its device login with the reason", async () => {
    const device = `banned-device-${kind}-${crypto.randomUUID()}`;
    const guest = await TestClient.connect(srv.url);
    clients.push(guest);
    guest.send({ $case: "deviceLoginRequest", value: { deviceId: device, color: 0 } });
    const made = (await guest.expect("identityResponse")).value;
    expect((await admin(srv.port, "/admin/ban", { userId: made.userId, reason: "bots", until: null })).status).toBe(200);
    expect((await guest.closed).reason).toBe("Banned for good: bots");
    const back = await TestClient.connect(srv.url);
    clients.push(back);
    back.send({ $case: "deviceLoginRequest", value: { deviceId: device, color: 0 } });
    expect((await back.expect("identityResponse")).value).toMatchObject({ ok: false, reason: "Banned for good: bots" });
  });

  test("boards: a record corrected to an exact score, a record removed, a board reset; each in memory, in the store, and audited", async () => {
    const { userId, name } = await player();
    const board = srv.services.leaderboards.get("hiscores")!;
    await board.submit(userId, 900, { name });
    const corrected = await admin(srv.port, "/admin/board/record", { board: "hiscores", userId, score: 120, operator: "carol" });
    expect(corrected.json.record).toMatchObject({ id: userId, name, score: 120 });
    expect(board.recordOf(userId)).toMatchObject({ score: 120 });
    const stored = async () => (await srv.services.store.boards.loadRecords("hiscores", 0)).find((r) => r.owner === userId);
    expect(await stored()).toMatchObject({ score: 120, name });
    expect((await admin(srv.port, "/admin/audit?limit=1")).json.entries[0]).toMatchObject({ operator: "carol", action: "board-record", before: { board: "hiscores", score: 900 }, after: { score: 120 } });
    expect((await admin(srv.port, "/admin/board/remove", { board: "hiscores", userId })).json).toEqual({ ok: true });
    expect(board.rankOf(userId)).toBeUndefined();
    expect(board.search(name)).toBeUndefined();
    expect(await stored()).toBeUndefined();
    expect((await admin(srv.port, "/admin/board/remove", { board: "hiscores", userId })).json.error).toBe(AdminError.noRecord);
    expect((await admin(srv.port, "/admin/board/record", { board: "nope", userId, score: 1 })).json.error).toBe(AdminError.noBoard);
    expect((await admin(srv.port, "/admin/board/record", { board: "hiscores", userId, score: 1.5 })).json.error).toBe(AdminError.score);
    // A reset empties the board, in memory and in the store; the game's next scores start it again.
    expect(board.size).toBeGreaterThan(0);
    const reset = await admin(srv.port, "/admin/board/reset", { board: "hiscores" });
    expect(reset.json.ok).toBe(true);
    expect(board.size).toBe(0);
    expect(await srv.services.store.boards.loadRecords("hiscores", 0)).toEqual([]);
    await board.submit(userId, 5, { name });
    expect(board.recordOf(userId)).toMatchObject({ rank: 1, score: 5 });
  });

  test("bad requests: no token, bad JSON, bad ids, reasons and times, unknown players: refused with their reasons; nothing changes, nobody is disturbed", async () => {
    const { c, userId } = await player();
    expect((await admin(srv.port, "/admin/kick", { userId, reason: "x" }, "wrong")).status).toBe(401);
    expect((await admin(srv.port, "/admin/players?name=a")).status).toBe(200);
    const cases: [string, unknown, number, string][] = [
      ["/admin/kick", "{not json", 400, AdminError.notJson],
      ["/admin/kick", [1, 2], 400, AdminError.notJson],
      ["/admin/kick", { userId: -1, reason: "x" }, 400, AdminError.userId],
      ["/admin/kick", { userId: "7", reason: "x" }, 400, AdminError.userId],
      ["/admin/kick", { userId, reason: "" }, 400, AdminError.reason],
      ["/admin/kick", { userId, reason: "x".repeat(81) }, 400, AdminError.reason],
      ["/admin/kick", { userId, reason: "x", operator: "" }, 400, AdminError.operator],
      ["/admin/ban", { userId, reason: "x", until: "yesterday" }, 400, AdminError.until],
      ["/admin/ban", { userId, reason: "x", until: "2001-01-01T00:00:00Z" }, 400, AdminError.until],
      ["/admin/kick", { userId: 999_999_999, reason: "x" }, 404, AdminError.unknownPlayer],
    ];
    for (const [path, body, status, error] of cases) {
      const answer = await admin(srv.port, path, body);
      expect(`${path} ${JSON.stringify(body)}: ${answer.status} ${answer.json.error}`).toBe(`${path} ${JSON.stringify(body)}: ${status} ${error}`);
    }
    expect((await admin(srv.port, "/admin/players")).json.error).toBe(AdminError.query);
    expect((await admin(srv.port, "/admin/players?id=abc")).json.error).toBe(AdminError.userId);
    expect((await admin(srv.port, "/admin/audit?limit=0")).json.error).toBe(AdminError.limit);
    // The player was never put out, and no action was written.
    await c.roundTrip();
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    expect((await admin(srv.port, `/admin/players?id=${userId}`)).json.players[0].ban).toBeNull();
  });
});

describeRedis("the operator across a cluster", () => {
  const cluster = clusterOnRedis("mmo-operator-cluster-");
  test("a kick and a ban made on a node the player is not on reach it on its own node; the audit entry is written once", async () => {
    for (const name of ["o1", "o2", "o3"]) await cluster.node(name, "--admin-token", TOKEN);
    const [a, b] = cluster.nodes as [ServerProcess, ServerProcess, ServerProcess];
    await waitFor(async () => (await Promise.all(cluster.nodes.map(clusterOf))).every((h) => h.nodes.length === 3), 8000, "every node to see the three");
    const c = await TestClient.connect(a.url);
    expect(await register(c, "Faraway", "password")).toBe("ok");
    expect(await login(c, "Faraway", "password")).toBe("ok");
    const found = (await admin(b.port, "/admin/players?name=Faraway")).json.players[0];
    expect(found.online).toEqual([{ node: "o1" }]);
    expect((await admin(b.port, "/admin/kick", { userId: found.userId, reason: "from another node" })).status).toBe(200);
    expect(await c.closed).toEqual({ code: 1008, reason: "Kicked by an operator: from another node" });
    const d = await TestClient.connect(a.url);
    expect(await login(d, "Faraway", "password")).toBe("ok");
    // A mute made on b holds on a at once.
    expect((await admin(b.port, "/admin/mute", { userId: found.userId, reason: "shouting", until: null })).status).toBe(200);
    await waitFor(async () => {
      d.send(newChat("loud"));
      // A chat let through comes back to nobody's notice here; a refused one is answered at once.
      return d.next("denyResponse", 300).then(
        (p) => p.msg?.$case === "denyResponse" && p.msg.value.reason === "Chat refused: muted for good: shouting",
        () => false,
      );
    }, 5000, "the mute made on b to hold on a");
    expect((await admin(b.port, "/admin/ban", { userId: found.userId, reason: "for good", until: null })).status).toBe(200);
    expect((await d.closed).reason).toBe("Banned for good: for good");
    const e = await TestClient.connect(cluster.nodes[2]!.url);
    expect(await login(e, "Faraway", "password")).toBe("Banned for good: for good");
    await e.close();
    const entries = (await admin(a.port, "/admin/audit?limit=10")).json.entries.filter((x: { target: number }) => x.target === found.userId);
    expect(entries.map((x: { action: string }) => x.action)).toEqual(["ban", "mute", "kick"]);
    // A board record corrected, then removed, on b: a's board follows.
    const score = async (node: ServerProcess) => {
      const entry = await lookUpHiscore(node.url, "Faraway");
      return typeof entry === "object" ? entry.score : undefined;
    };
    await waitFor(async () => (await score(a)) === 0, 5000, "the registration's record on a's board");
    expect((await admin(b.port, "/admin/board/record", { board: "hiscores", userId: found.userId, score: 321 })).status).toBe(200);
    await waitFor(async () => (await score(a)) === 321, 5000, "the corrected record on a's board");
    expect((await admin(b.port, "/admin/board/remove", { board: "hiscores", userId: found.userId })).status).toBe(200);
    await waitFor(async () => (await score(a)) === undefined, 5000, "the removed record gone from a's board");
  }, 60_000);
});
