// Ways into an account besides a username and a password (docs/players.md), on SQLite and PostgreSQL,
// over real sockets: a device's first login makes its account and its return finds it; a game's own
// provider accepts and refuses tickets; every refusal has its fixed reason, and nobody else notices.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { AccountReason, IdentityReason, Reason } from "../src/accounts/rules.ts";
import { defineGame } from "../src/rooms/game.ts";
import { newChat } from "../src/packets/index.ts";
import type { ServerProcess } from "../src/testing/server-process.ts";
import { clusterOf, clusterOnRedis, describeRedis, describeStores, login, lookUpHiscore, radiusRumble, register, startTestServer, storeOptions, TestClient, waitFor, type TestServer } from "./helpers.ts";

/** Radius Rumble with a login provider of its own: a ticket "ok:ID" names the player ID; "down" cannot be checked. */
const withProvider = defineGame({
  ...radiusRumble,
  create(ctx) {
    ctx.accounts.addProvider("arcade", async (ticket) => {
      if (ticket === "down") throw new Error("the arcade's server does not answer");
      return ticket.startsWith("ok:") ? ticket.slice(3) : undefined;
    });
    return radiusRumble.create(ctx);
  },
});

describeStores("identity", (kind) => {
  let srv: TestServer;
  let devices = 0;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    srv = await startTestServer(withProvider, await storeOptions(kind));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await srv.stop();
  });
  const connect = async () => {
    const c = await TestClient.connect(srv.url);
    clients.push(c);
    return c;
  };
  const newDevice = () => `device-${kind}-${++devices}-${crypto.randomUUID()}`;
  const deviceLogin = async (c: TestClient, deviceId: string) => {
    c.send({ $case: "deviceLoginRequest", value: { deviceId, color: 0x336699 } });
    return (await c.expect("identityResponse")).value;
  };
  const customLogin = async (c: TestClient, provider: string, ticket: string) => {
    c.send({ $case: "customLoginRequest", value: { provider, ticket, color: 0 } });
    return (await c.expect("identityResponse")).value;
  };

  test("a device's first login makes its account (a generated name) and puts it in the game; its return finds the same account", async () => {
    const device = newDevice();
    const first = await connect();
    const made = await deviceLogin(first, device);
    expect(made).toMatchObject({ ok: true, reason: "", created: true });
    expect(made.displayName).toMatch(/^Guest-[2-9A-HJ-NP-Z]{6}$/);
    expect(made.userId).toBeGreaterThan(0);
    // As after a password login: the game's next state, here Radius Rumble's world with its own player.
    const own = await first.expect("player");
    expect(own.value).toMatchObject({ id: first.id, name: made.displayName, color: 0x336699 });
    await first.close();
    const again = await connect();
    expect(await deviceLogin(again, device)).toEqual({ ok: true, reason: "", userId: made.userId, displayName: made.displayName, created: false });
    // Another device is another account.
    const other = await deviceLogin(await connect(), newDevice());
    expect(other.created).toBe(true);
    expect(other.userId).not.toBe(made.userId);
  });

  test("one device logged in twice at once: the second is refused as a second password login is", async () => {
    const device = newDevice();
    expect((await deviceLogin(await connect(), device)).ok).toBe(true);
    expect(await deviceLogin(await connect(), device)).toMatchObject({ ok: false, reason: Reason.alreadyLoggedIn });
  });

  test("device ids that are too short, too long or of other characters are refused with one reason; the client and the lobby go on", async () => {
    const c = await connect();
    const listener = await connect();
    for (const bad of ["short", "x".repeat(129), "has spaces in it, sixteen+", "ünïcödé-ünïcödé-ü", ""]) {
      expect(await deviceLogin(c, bad)).toEqual({ ok: false, reason: IdentityReason.deviceId, userId: 0, displayName: "", created: false });
    }
    c.send(newChat("still here"));
    expect((await listener.expect("chat")).value.msg).toBe("still here");
    expect((await deviceLogin(c, newDevice())).ok).toBe(true);
  });

  test("a game's provider: an accepted ticket makes the account and finds it again; refused, unknown, oversized and unanswered tickets have their reasons", async () => {
    const subject = `arcade-player-${kind}-${crypto.randomUUID()}`;
    const player = await connect();
    const first = await customLogin(player, "arcade", `ok:${subject}`);
    expect(first).toMatchObject({ ok: true, created: true });
    expect(await customLogin(await connect(), "arcade", `ok:${subject}`)).toMatchObject({ ok: false, reason: Reason.alreadyLoggedIn });
    await player.close();
    const back = await customLogin(await connect(), "arcade", `ok:${subject}`);
    expect(back).toEqual({ ok: true, reason: "", userId: first.userId, displayName: first.displayName, created: false });
    // The same id through another provider (a device of that id) is another account.
    const c = await connect();
    const device = await deviceLogin(await connect(), subject);
    expect(device).toMatchObject({ ok: true, created: true });
    expect(device.userId).not.toBe(first.userId);
    expect(await customLogin(c, "arcade", "not a ticket")).toMatchObject({ ok: false, reason: IdentityReason.ticketRefused });
    expect(await customLogin(c, "steam", "ok:someone")).toMatchObject({ ok: false, reason: IdentityReason.unknownProvider });
    expect(await customLogin(c, "device", "ok:someone")).toMatchObject({ ok: false, reason: IdentityReason.unknownProvider });
    expect(await customLogin(c, "arcade", `ok:${"x".repeat(5000)}`)).toMatchObject({ ok: false, reason: IdentityReason.ticketTooLong });
    expect(await customLogin(c, "arcade", "down")).toMatchObject({ ok: false, reason: IdentityReason.providerFailed });
    expect(await customLogin(c, "arcade", `ok:${"y".repeat(200)}`)).toMatchObject({ ok: false, reason: IdentityReason.providerFailed });
    expect(srv.logs.has('The login provider "arcade" could not check a ticket: the arcade\'s server does not answer')).toBe(true);
  });

  const account = async (c: TestClient, msg: Parameters<TestClient["send"]>[0]) => {
    c.send(msg);
    return (await c.expect("accountResponse")).value;
  };

  test("a guest given a username and password keeps everything: a password login reaches the same account, and its device still does", async () => {
    const device = newDevice();
    const guest = await connect();
    const made = await deviceLogin(guest, device);
    // Something the account has: a storage object of its own.
    const wallet = srv.services.storage.collection<{ gold: number }>("wallets");
    expect((await wallet.put("main", { gold: 7 }, { owner: made.userId })).ok).toBe(true);
    const name = `Linked${kind}`;
    expect(await account(guest, { $case: "linkPasswordRequest", value: { username: name, password: "short" } })).toEqual({ ok: false, reason: Reason.passwordTooShort(8) });
    expect(await account(guest, { $case: "linkPasswordRequest", value: { username: name, password: "a password" } })).toEqual({ ok: true, reason: "" });
    expect(await account(guest, { $case: "linkPasswordRequest", value: { username: `${name}2`, password: "a password" } })).toEqual({ ok: false, reason: AccountReason.hasPassword });
    await guest.close();
    const byPassword = await connect();
    expect(await login(byPassword, name, "a password")).toBe("ok");
    expect((await byPassword.expect("player")).value.name).toBe(made.displayName);
    expect((await wallet.get("main", made.userId))!.value.gold).toBe(7);
    await byPassword.close();
    expect(await deviceLogin(await connect(), device)).toMatchObject({ ok: true, userId: made.userId, created: false });
  });

  test("a second device linked reaches the same account; a device of another account, a bad id and a client not logged in are refused", async () => {
    const [first, second, othersDevice] = [newDevice(), newDevice(), newDevice()];
    const c = await connect();
    expect(await account(c, { $case: "linkDeviceRequest", value: { deviceId: second } })).toEqual({ ok: false, reason: AccountReason.loginFirst });
    const made = await deviceLogin(c, first);
    expect((await deviceLogin(await connect(), othersDevice)).ok).toBe(true);
    expect(await account(c, { $case: "linkDeviceRequest", value: { deviceId: second } })).toEqual({ ok: true, reason: "" });
    expect(await account(c, { $case: "linkDeviceRequest", value: { deviceId: othersDevice } })).toEqual({ ok: false, reason: AccountReason.deviceTaken });
    expect(await account(c, { $case: "linkDeviceRequest", value: { deviceId: "bad" } })).toEqual({ ok: false, reason: IdentityReason.deviceId });
    await c.close();
    expect(await deviceLogin(await connect(), second)).toMatchObject({ ok: true, userId: made.userId, created: false });
  });

  test("unlinking: a device of the account goes; the last way in is refused; a device not the account's is refused", async () => {
    const [first, second] = [newDevice(), newDevice()];
    const c = await connect();
    const made = await deviceLogin(c, first);
    expect(await account(c, { $case: "linkDeviceRequest", value: { deviceId: second } })).toMatchObject({ ok: true });
    expect(await account(c, { $case: "unlinkDeviceRequest", value: { deviceId: newDevice() } })).toEqual({ ok: false, reason: AccountReason.notLinked });
    expect(await account(c, { $case: "unlinkDeviceRequest", value: { deviceId: first } })).toEqual({ ok: true, reason: "" });
    expect(await account(c, { $case: "unlinkDeviceRequest", value: { deviceId: second } })).toEqual({ ok: false, reason: AccountReason.lastWayIn });
    await c.close();
    // The unlinked device is a stranger now: its login makes a new account.
    const again = await deviceLogin(await connect(), first);
    expect(again).toMatchObject({ ok: true, created: true });
    expect(again.userId).not.toBe(made.userId);
  });

  test("a display-name change is seen on the boards at once and in the store; bad names are refused", async () => {
    const c = await connect();
    const device = newDevice();
    const made = await deviceLogin(c, device);
    const board = srv.services.leaderboards.get("hiscores")!;
    await board.submit(made.userId, 4242, { name: made.displayName });
    const newName = `Renamed ${kind}`;
    for (const [bad, reason] of [["", AccountReason.nameEmpty], ["x".repeat(21), AccountReason.nameTooLong], [" padded", AccountReason.nameWhitespace], ["zero\u200bwidth", AccountReason.nameInvisible]] as const) {
      expect(await account(c, { $case: "displayNameRequest", value: { name: bad } })).toEqual({ ok: false, reason });
    }
    expect(await account(c, { $case: "displayNameRequest", value: { name: newName } })).toEqual({ ok: true, reason: "" });
    expect(board.recordOf(made.userId)).toMatchObject({ name: newName, score: 4242 });
    expect(board.rankOf(made.userId)).toBe(board.search(newName));
    await board.flush();
    const stored = await srv.services.store.boards.loadRecords("hiscores", 0);
    expect(stored.find((r) => r.owner === made.userId)).toMatchObject({ name: newName, score: 4242 });
    // The next login of the account is under the new name.
    await c.close();
    expect(await deviceLogin(await connect(), device)).toMatchObject({ ok: true, userId: made.userId, displayName: newName });
  });

  test("a provider's id linked to a guest: its custom login reaches the guest's account; the same id for another account, or a refused ticket, is refused", async () => {
    const subject = `linked-arcade-${kind}-${crypto.randomUUID()}`;
    const guest = await connect();
    const made = await deviceLogin(guest, newDevice());
    expect(await account(guest, { $case: "linkProviderRequest", value: { provider: "arcade", ticket: "no" } })).toEqual({ ok: false, reason: IdentityReason.ticketRefused });
    expect(await account(guest, { $case: "linkProviderRequest", value: { provider: "arcade", ticket: `ok:${subject}` } })).toEqual({ ok: true, reason: "" });
    const other = await connect();
    expect((await deviceLogin(other, newDevice())).ok).toBe(true);
    expect(await account(other, { $case: "linkProviderRequest", value: { provider: "arcade", ticket: `ok:${subject}` } })).toEqual({ ok: false, reason: AccountReason.providerTaken });
    await guest.close();
    expect(await customLogin(await connect(), "arcade", `ok:${subject}`)).toMatchObject({ ok: true, userId: made.userId, created: false });
  });

  test("a flood of refused tickets from one address is refused unchecked after 5, with its reason; the provider is not asked", async () => {
    const flooder = await startTestServer(withProvider, await storeOptions(kind));
    try {
      const c = await TestClient.connect(flooder.url);
      for (let i = 0; i < 5; i++) expect(await customLogin(c, "arcade", `guess ${i}`)).toMatchObject({ ok: false, reason: IdentityReason.ticketRefused });
      // The sixth, a good ticket or not, is not checked.
      expect(await customLogin(c, "arcade", "ok:someone")).toMatchObject({ ok: false, reason: IdentityReason.tooManyTickets });
      expect(flooder.logs.lines.filter((l) => l.includes('The login provider "arcade" refused a ticket')).length).toBe(5);
      c.close();
    } finally {
      await flooder.stop();
    }
  });

  test("the series' flow is as it was; a name starting with # (those of accounts made without a password) cannot be registered", async () => {
    const c = await connect();
    expect(await register(c, `#device-${kind}`, "password")).toBe(Reason.usernameReserved);
    expect(await register(c, `Series${kind}`, "password")).toBe("ok");
    expect(await login(c, `Series${kind}`, "password")).toBe("ok");
  });
});

describeRedis("identity across a cluster", () => {
  const cluster = clusterOnRedis("mmo-identity-cluster-");
  const clients: TestClient[] = [];
  afterAll(() => Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined))));
  const connect = async (node: ServerProcess) => {
    const c = await TestClient.connect(node.url);
    clients.push(c);
    return c;
  };
  const ask = async <K extends "identityResponse" | "accountResponse">(c: TestClient, msg: Parameters<TestClient["send"]>[0], answer: K) => {
    c.send(msg);
    return (await c.expect(answer)).value;
  };
  /** Whether the node's hiscores find `name` (the series' search). */
  const onBoard = async (node: ServerProcess, name: string) => typeof (await lookUpHiscore(node.url, name)) === "object";

  test("three nodes: a device's account is one account on every node, logged in once; a password linked on one logs in on another; a rename on one is on another's board", async () => {
    for (const name of ["i1", "i2", "i3"]) await cluster.node(name);
    const [a, b, c] = cluster.nodes as [ServerProcess, ServerProcess, ServerProcess];
    await waitFor(async () => (await Promise.all(cluster.nodes.map(clusterOf))).every((h) => h.nodes.length === 3), 8000, "every node to see the three");
    const device = `cluster-device-${crypto.randomUUID()}`;
    const onA = await connect(a);
    const made = await ask(onA, { $case: "deviceLoginRequest", value: { deviceId: device, color: 0 } }, "identityResponse");
    expect(made).toMatchObject({ ok: true, created: true });
    // Logged in on a, so refused on b; once a's connection is gone, b finds the same account.
    expect(await ask(await connect(b), { $case: "deviceLoginRequest", value: { deviceId: device, color: 0 } }, "identityResponse")).toMatchObject({ ok: false, reason: Reason.alreadyLoggedIn });
    await onA.close();
    const onB = await connect(b);
    await waitFor(async () => {
      const answer = await ask(onB, { $case: "deviceLoginRequest", value: { deviceId: device, color: 0 } }, "identityResponse");
      return answer.ok && answer.userId === made.userId && !answer.created;
    }, 5000, "the device's account on b once a let it go");
    expect(await ask(onB, { $case: "linkPasswordRequest", value: { username: "ClusterGuest", password: "a password" } }, "accountResponse")).toEqual({ ok: true, reason: "" });
    await onB.close();
    const onC = await connect(c);
    await waitFor(async () => (await login(onC, "ClusterGuest", "a password")) === "ok", 5000, "the password linked on b to log in on c");
    // A rename on c: a's board finds the account under its new name.
    const renamer = await connect(c);
    expect(await register(renamer, "Renamer", "password")).toBe("ok");
    expect(await login(renamer, "Renamer", "password")).toBe("ok");
    await waitFor(() => onBoard(a, "Renamer"), 5000, "the registration on a's board");
    expect(await ask(renamer, { $case: "displayNameRequest", value: { name: "Renamed" } }, "accountResponse")).toEqual({ ok: true, reason: "" });
    await waitFor(() => onBoard(a, "Renamed"), 5000, "the rename on a's board");
    expect(await onBoard(a, "Renamer")).toBe(false);
  }, 60_000);
});
