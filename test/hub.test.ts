// The hub over real sockets: ids, lobby chat, sender stamping, bad frames, unregistering.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodePacket, encodePacket, newChat, newId, Packet } from "../src/packets/index.ts";
import { radiusRumble, startTestServer, TestClient, waitFor, type TestServer } from "./helpers.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer(radiusRumble);
});
afterAll(() => srv.stop());

async function closeAll(clients: TestClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.close()));
  await waitFor(() => srv.hub.size === 0, 3000, "the hub to empty");
}

describe("wire format", () => {
  test("Packet{sender_id: 1, id: {id: 1}} is the 6 bytes of the protocol (docs/protocol.md)", () => {
    expect([...encodePacket(1, newId(1))]).toEqual([0x08, 0x01, 0x1a, 0x02, 0x08, 0x01]);
  });

  test("ids over 2^53 fail to decode instead of losing precision", () => {
    const bytes = Packet.encode({ senderId: 0, msg: newId(1) }).finish();
    // sender_id = 2^53 + 1, as a varint
    const big = new Uint8Array([0x08, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, ...bytes]);
    expect(() => Packet.decode(big)).toThrow();
  });
});

describe("ids on connect", () => {
  test("the id packet comes first, and 200 concurrent connections get distinct ids from 1", async () => {
    const clients = await Promise.all(Array.from({ length: 200 }, () => TestClient.connect(srv.url)));
    const ids = clients.map((c) => c.id);
    expect(new Set(ids).size).toBe(200);
    expect(Math.min(...ids)).toBeGreaterThanOrEqual(1);
    expect(srv.hub.size).toBe(200);
    await closeAll(clients);
  });

  test("ids are never reused after a client leaves", async () => {
    const a = await TestClient.connect(srv.url);
    await a.close();
    const b = await TestClient.connect(srv.url);
    expect(b.id).toBeGreaterThan(a.id);
    await closeAll([b]);
  });

  test("the id packet is sent with the client's own id as sender", async () => {
    const c = await TestClient.connect(srv.url, { awaitId: false });
    const first = await c.next();
    expect(first.msg?.$case).toBe("id");
    expect(first.senderId).toBe((first.msg as { value: { id: number } }).value.id);
    await closeAll([c]);
  });
});

describe("lobby chat", () => {
  test("reaches every other lobby client exactly once with the sender's id, never echoed", async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => TestClient.connect(srv.url)));
    const [sender, ...others] = clients as [TestClient, ...TestClient[]];
    sender.send(newChat("hello lobby"));
    for (const other of others) {
      const chat = await other.expect("chat");
      expect(chat.senderId).toBe(sender.id);
      expect(chat.value.msg).toBe("hello lobby");
    }
    await Bun.sleep(100);
    for (const c of clients) expect(c.packets.filter((p) => p.msg?.$case === "chat")).toHaveLength(0);
    await closeAll(clients);
  });

  test("a spoofed sender_id is replaced by the true one", async () => {
    const [a, b, victim] = await Promise.all([1, 2, 3].map(() => TestClient.connect(srv.url)));
    a!.send(newChat("not really from the victim"), victim!.id);
    const chat = await b!.expect("chat");
    expect(chat.senderId).toBe(a!.id);
    await a!.roundTrip();
    expect(a!.take("chat")).toEqual([]);
    expect(srv.logs.has(`Ignored sender_id ${victim!.id}`)).toBe(true);
    await closeAll([a!, b!, victim!]);
  });
});

describe("bad frames", () => {
  test("a malformed frame is dropped and the connection keeps working, for it and the others", async () => {
    const [a, b] = await Promise.all([TestClient.connect(srv.url), TestClient.connect(srv.url)]);
    a!.sendRaw(new Uint8Array([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    a!.sendRaw(new Uint8Array([0xff]));
    a!.send(newChat("still here"));
    expect((await b!.expect("chat")).value.msg).toBe("still here");
    b!.send(newChat("me too"));
    expect((await a!.expect("chat")).value.msg).toBe("me too");
    expect(srv.logs.has("Dropped a malformed frame")).toBe(true);
    await closeAll([a!, b!]);
  });

  test("one trailing newline, as the series' Go code writes frames, is tolerated", async () => {
    const [a, b] = await Promise.all([TestClient.connect(srv.url), TestClient.connect(srv.url)]);
    a!.sendRaw(new Uint8Array([...encodePacket(0, newChat("from go")), 0x0a]));
    expect((await b!.expect("chat")).value.msg).toBe("from go");
    await closeAll([a!, b!]);
  });

  test("server frames never carry a trailing newline", async () => {
    const c = await TestClient.connect(srv.url, { awaitId: false });
    const raw = await new Promise<Uint8Array>((resolve) =>
      c.ws.addEventListener("message", (ev) => resolve(new Uint8Array(ev.data as ArrayBuffer)), { once: true }),
    );
    // The id is read from the packet itself (any id: a varint of any length), the bytes compared whole.
    const id = Number(decodePacket(raw).senderId);
    expect([...raw]).toEqual([...encodePacket(id, newId(id))]);
    await closeAll([c]);
  });

  test("a text frame closes the connection with 1003 and a reason", async () => {
    const c = await TestClient.connect(srv.url);
    c.sendRaw("hello?");
    const closed = await c.closed;
    expect(closed.code).toBe(1003);
    expect(closed.reason).toContain("binary");
    await waitFor(() => srv.hub.size === 0, 3000, "the hub to empty");
  });
});

describe("leaving", () => {
  test("closing unregisters, whichever side closes, and the hub is empty again", async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => TestClient.connect(srv.url)));
    expect(srv.hub.size).toBe(10);
    for (const c of clients.slice(0, 5)) c.ws.close();
    for (const c of clients.slice(5)) srv.hub.clients.get(c.id)!.close("test says so");
    await Promise.all(clients.map((c) => c.closed));
    await waitFor(() => srv.hub.size === 0, 3000, "the hub to empty");
  });
});

describe("HTTP", () => {
  const http = () => srv.url.replace("ws://", "http://");

  test("a plain request to /ws gets 400 with an explanation", async () => {
    const res = await fetch(http());
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("WebSocket");
  });

  test("other paths get 404", async () => {
    expect((await fetch(http().replace("/ws", "/nope"))).status).toBe(404);
  });

  test("a browser's Origin header is accepted, as is none", async () => {
    const c = await TestClient.connect(srv.url, { headers: { Origin: "https://example.com" } });
    expect(c.id).toBeGreaterThan(0);
    await closeAll([c]);
  });
});
