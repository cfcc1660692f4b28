// World frames over real sockets: a small field of entities the test places by hand (views,
// hysteresis, enter before update, leave once, the budget), then Radius Rumble's world (refusals, the
// classic clients untouched, a resumed session's whole view).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { defineState } from "../src/hub/states.ts";
import { newId, type Packet } from "../src/packets/index.ts";
import { defineGame } from "../src/rooms/game.ts";
import { Room, type RoomContext } from "../src/rooms/room.ts";
import { FramesRefusal } from "../src/rooms/rooms.ts";
import { waitedMs, type Entities, type Entity } from "../src/world/world.ts";
import { WORLD_ROOM, type WorldRoom } from "../src/games/radius-rumble/world-room.ts";
import { login, radiusRumble, register, startTestServer, TestClient, waitFor, type TestServer } from "./helpers.ts";

type Frame = Extract<NonNullable<Packet["msg"]>, { $case: "worldFrame" }>["value"];

/** A field: each member gets a marker entity at the origin that its view follows; the test adds the rest. */
class FieldRoom extends Room {
  override readonly tickHz = 20;
  readonly entities: Entities;
  readonly markers = new Map<number, Entity>();
  /** How long each tick's step keeps the thread busy, ms (a test of the tick's timings sets it). */
  busyMs = 0;

  constructor(ctx: RoomContext) {
    super(ctx);
    this.entities = ctx.replicate({ viewRadius: 1000, precision: 0.5 });
    field = this;
  }

  onJoin(clientId: number): void {
    const marker = this.entities.add("marker", 0, 0, { $case: "chat", value: { msg: `marker of ${clientId}` } });
    this.markers.set(clientId, marker);
    this.entities.view(clientId, { follow: marker });
  }

  onLeave(clientId: number): void {
    this.markers.get(clientId)?.remove();
  }

  override onTick(): void {
    const until = performance.now() + this.busyMs;
    while (performance.now() < until);
  }

  snapshot(): undefined {
    return undefined;
  }

  restore(): void {}
}

let field: FieldRoom | undefined;

const fieldGame = defineGame({
  name: "field",
  description: "a field of entities placed by the test",
  create({ rooms }) {
    return {
      states: {
        initial: "Field",
        states: {
          Field: defineState({
            onEnter: (client) => {
              client.socketSend(newId(client.id));
              rooms.join(client, "field");
            },
            handleMessage: {},
            onExit: (client) => rooms.leave(client),
          }),
        },
        transitions: { Field: [] },
      },
      rooms: { field: (ctx) => new FieldRoom(ctx) },
      start: () => void rooms.create("field", "field"),
    };
  },
});

/** Takes every frame the client has received so far, decoded. */
function takeFrames(c: TestClient): Frame[] {
  const frames: Frame[] = [];
  for (let i = 0; i < c.packets.length; ) {
    const msg = c.packets[i]!.msg;
    if (msg?.$case === "worldFrame") {
      frames.push(msg.value);
      c.packets.splice(i, 1);
    } else i++;
  }
  return frames;
}

/** How many updates each of `entities` got in `frames`, on average. */
function updatesEach(frames: Frame[], entities: Entity[]): number {
  const ids = new Set(entities.map((e) => e.id));
  return frames.flatMap((f) => f.updated).filter((e) => ids.has(e.id)).length / entities.length;
}

async function framesFor(c: TestClient, ms: number): Promise<Frame[]> {
  await Bun.sleep(ms);
  return takeFrames(c);
}

async function askFrames(c: TestClient, viewRadius = 0) {
  c.send({ $case: "worldFramesRequest", value: { viewRadius } });
  return (await c.expect("worldInfo")).value;
}

/** Frames until one holds `check`, or an error naming `what`. */
async function frameWhere(c: TestClient, check: (f: Frame) => boolean, what: string, timeoutMs = 3000): Promise<Frame> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const found = takeFrames(c).find(check);
    if (found) return found;
    if (performance.now() > deadline) throw new Error(`no frame where ${what}`);
    await Bun.sleep(20);
  }
}

describe("views on a field", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer(fieldGame);
  });
  afterAll(() => srv.stop());

  test("the first frame is the whole view; an entity past the radius stays until well past it, then leaves once", async () => {
    const c = await TestClient.connect(srv.url);
    const info = await askFrames(c);
    expect(info).toMatchObject({ ok: true, viewRadius: 1000, precision: 0.5, tickHz: 20 });
    const target = field!.entities.add("rock", 500, 0, { $case: "chat", value: { msg: "rock" } });
    const first = await frameWhere(c, (f) => f.reset, "reset");
    expect(first.seq).toBe(1);
    const marker = field!.markers.get(c.id)!;
    expect(first.own).toBe(marker.id);
    const rock = target;
    if (!first.entered.some((e) => e.id === rock.id)) await frameWhere(c, (f) => f.entered.some((e) => e.id === rock.id), "the rock entered");
    // Just past the radius, inside the hysteresis: still seen.
    rock.move(1100, 0);
    const near = await framesFor(c, 600);
    expect(near.flatMap((f) => f.left)).not.toContain(rock.id);
    const moved = near.flatMap((f) => f.updated).filter((e) => e.id === rock.id);
    expect(moved.at(-1)).toMatchObject({ x: 2200, y: 0 });
    // Well past it: told once that it left, and nothing of it afterwards.
    rock.move(1300, 0);
    rock.move(1400, 0);
    const far = await framesFor(c, 800);
    expect(far.flatMap((f) => f.left).filter((id) => id === rock.id)).toHaveLength(1);
    const leftAt = far.findIndex((f) => f.left.includes(rock.id));
    expect(far.slice(leftAt + 1).some((f) => f.updated.some((e) => e.id === rock.id))).toBe(false);
    // Sequenced with no gap.
    const seqs = [first, ...near, ...far].map((f) => f.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
    rock.remove();
    c.close();
  });

  test("a thread's wait for a CPU: what more spinning threads than cores take from it, not its own sleep", async () => {
    const before = waitedMs();
    if (process.platform !== "linux") return expect(before).toBeUndefined();
    // Asleep, a thread waits for nothing.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    expect(waitedMs()! - before!).toBeLessThan(25);
    // Four times as many spinning threads as cores, and this one spinning too: it waits about three
    // quarters of the time, and runs the rest.
    const spinners = Array.from({ length: 4 * availableParallelism() + 1 }, () => new Worker(join(import.meta.dir, "fixtures", "spin.ts")));
    try {
      const said = (worker: Worker, word: string) => new Promise<void>((resolve) => worker.addEventListener("message", (e) => e.data === word && resolve()));
      const spinning = spinners.map((w) => said(w, "spinning"));
      const done = spinners.map((w) => said(w, "done"));
      for (const w of spinners) w.postMessage(600);
      await Promise.all(spinning);
      const [waitedBefore, started] = [waitedMs()!, performance.now()];
      while (performance.now() - started < 200);
      const [waited, wall] = [waitedMs()! - waitedBefore, performance.now() - started];
      expect(waited).toBeGreaterThan(0.5 * wall);
      expect(waited).toBeLessThan(wall);
      await Promise.all(done);
    } finally {
      for (const w of spinners) w.terminate();
    }
  });

  test("the room's tick in wall time and, on Linux, its wait for a CPU and its own time within it", async () => {
    const c = await TestClient.connect(srv.url);
    await askFrames(c);
    field!.busyMs = 8;
    try {
      await Bun.sleep(500);
    } finally {
      field!.busyMs = 0;
    }
    const { tickMs, tickRunMs, tickWaitMs } = field!.entities.timings();
    expect(tickMs.max).toBeGreaterThanOrEqual(8);
    if (process.platform !== "linux") {
      expect(tickRunMs).toBeUndefined();
    } else {
      // Each within the tick's wall time, and the busy ticks' 8 ms mostly the tick's own.
      expect(tickWaitMs!.p50).toBeGreaterThanOrEqual(0);
      expect(tickWaitMs!.max).toBeLessThanOrEqual(tickMs.max);
      expect(tickRunMs!.max).toBeLessThanOrEqual(tickMs.max);
      expect(tickRunMs!.max).toBeGreaterThanOrEqual(6);
    }
    c.close();
  });

  test("an entity enters (kind and state) before any update of it; a removed one is told left once", async () => {
    const c = await TestClient.connect(srv.url);
    await askFrames(c);
    await frameWhere(c, (f) => f.reset, "reset");
    const bird = field!.entities.add("bird", 100, 100, { $case: "chat", value: { msg: "tweet" } });
    for (let i = 0; i < 10; i++) {
      bird.move(100 + i * 10, 100);
      await Bun.sleep(30);
    }
    bird.setState({ $case: "chat", value: { msg: "TWEET" } });
    await Bun.sleep(200);
    bird.remove();
    const frames = await framesFor(c, 300);
    const firstEnter = frames.findIndex((f) => f.entered.some((e) => e.id === bird.id));
    const firstUpdate = frames.findIndex((f) => f.updated.some((e) => e.id === bird.id));
    expect(firstEnter).toBeGreaterThanOrEqual(0);
    expect(firstUpdate === -1 || firstUpdate > firstEnter).toBe(true);
    const entered = frames[firstEnter]!.entered.find((e) => e.id === bird.id)!;
    expect(entered.kind).toBe("bird");
    expect(entered.state?.msg).toEqual({ $case: "chat", value: { msg: "tweet" } });
    const states = frames.flatMap((f) => f.updated).filter((e) => e.id === bird.id && e.state).map((e) => e.state!.msg);
    expect(states).toEqual([{ $case: "chat", value: { msg: "TWEET" } }]);
    expect(frames.flatMap((f) => f.left).filter((id) => id === bird.id)).toHaveLength(1);
    c.close();
  });

  test("an entity made always visible is seen wherever it is", async () => {
    const c = await TestClient.connect(srv.url);
    await askFrames(c);
    await frameWhere(c, (f) => f.reset, "reset");
    const mate = field!.entities.add("mate", 50_000, 50_000);
    field!.entities.alwaysSee(c.id, mate);
    await frameWhere(c, (f) => f.entered.some((e) => e.id === mate.id), "the teammate entered");
    field!.entities.alwaysSee(c.id, mate, false);
    await frameWhere(c, (f) => f.left.includes(mate.id), "the teammate left");
    mate.remove();
    c.close();
  });

  test("bad asks are refused clearly and disturb nobody: twice, an absurd radius", async () => {
    const watcher = await TestClient.connect(srv.url);
    await askFrames(watcher);
    const c = await TestClient.connect(srv.url);
    for (const radius of [-1, 1e9, Number.NaN, Infinity]) {
      const info = await askFrames(c, radius);
      expect(info.ok).toBe(false);
      expect(info.reason).toStartWith("View radius out of range");
    }
    expect((await askFrames(c, 500)).ok).toBe(true);
    expect(await askFrames(c)).toMatchObject({ ok: false, reason: "Frames were asked for already" });
    const before = takeFrames(watcher).at(-1)?.seq ?? 0;
    const after = await framesFor(watcher, 300);
    expect(after.length).toBeGreaterThan(2);
    expect(after[0]!.seq).toBe(before + 1);
    watcher.close();
    c.close();
  });

  /**
   * A field server of its own with a budget of `budget` bytes a second, and a client past its first
   * (whole) frame; `count` entities of `kind`, 10 near the client and the rest far, which `step` moves
   * (and may change) every tick from then on; `run` gets them and the ticks so far.
   */
  async function inCrowd(
    budget: number,
    count: number,
    kind: string,
    step: (entity: Entity, i: number, tick: number) => void,
    run: (c: TestClient, crowd: Entity[], ticks: () => number, stop: () => void) => Promise<void>,
  ): Promise<void> {
    const crowdSrv = await startTestServer(fieldGame, { viewBudget: budget });
    let ticks = 0;
    let timer: Timer | undefined;
    const crowd: Entity[] = [];
    try {
      const c = await TestClient.connect(crowdSrv.url);
      await askFrames(c);
      await frameWhere(c, (f) => f.reset, "reset");
      for (let i = 0; i < count; i++) crowd.push(field!.entities.add(kind, i < 10 ? 20 + i * 5 : 300 + i * 3, 0));
      timer = setInterval(() => {
        ticks++;
        crowd.forEach((e, i) => step(e, i, ticks));
      }, 50);
      await Bun.sleep(1500);
      takeFrames(c);
      await run(c, crowd, () => ticks, () => clearInterval(timer));
      c.close();
    } finally {
      clearInterval(timer);
      for (const e of crowd) e.remove();
      await crowdSrv.stop();
    }
  }

  test("a crowd: every frame within the budget, the nearest keep their rate, the far wait longer", async () => {
    const budget = 4000;
    // 200 entities, 10 near and 190 far, all moving every tick: far more than 200 bytes a tick.
    await inCrowd(budget, 200, "walker", (e, _, tick) => e.move(e.x, tick % 2 === 0 ? 0 : 1), async (c, crowd, _, stop) => {
      const raw: number[] = [];
      const listener = (ev: MessageEvent) => raw.push((ev.data as ArrayBuffer).byteLength);
      c.ws.addEventListener("message", listener);
      const frames = await framesFor(c, 2000);
      c.ws.removeEventListener("message", listener);
      stop();
      // What a tick does not spend is kept for the next, up to 4 ticks' worth: no frame is larger, and
      // the whole window carries the budget a second plus that once.
      const perTick = budget / 20;
      expect(Math.max(...raw)).toBeLessThanOrEqual(perTick * 4 + 8);
      const total = raw.reduce((a, b) => a + b, 0);
      expect(total).toBeLessThanOrEqual(budget * (frames.length / 20) + perTick * 4 + 8 * raw.length);
      const near = updatesEach(frames, crowd.slice(0, 10));
      const far = updatesEach(frames, crowd.slice(10));
      // The near ones are updated in most frames; the far ones far less often, and still now and then.
      expect(near).toBeGreaterThan(frames.length * 0.6);
      expect(far).toBeLessThan(near / 3);
      expect(far).toBeGreaterThan(0);
    });
  });

  test("a crowd whose states change every tick: the nearest still move in most frames, and each one's newest state arrives", async () => {
    // 60 entities, 10 near and 50 far, each moving and with a new state of 60 bytes every tick:
    // their states alone are 3,600 bytes a tick against a budget of 200.
    const stateOf = (i: number, tick: number) => ({ $case: "chat" as const, value: { msg: `${"s".repeat(50)} ${i} ${tick}` } });
    const talk = (e: Entity, i: number, tick: number) => {
      e.move(e.x, tick % 2 === 0 ? 0 : 1);
      e.setState(stateOf(i, tick));
    };
    await inCrowd(4000, 60, "talker", talk, async (c, crowd, ticks, stop) => {
      const frames = await framesFor(c, 2000);
      stop();
      const lastTick = ticks();
      // States take at most half of a tight budget: positions still carry the nearest in most frames.
      expect(updatesEach(frames, crowd.slice(0, 10))).toBeGreaterThan(frames.length * 0.6);
      // Once the states stop changing, each entity's newest state reaches the client (the ones between
      // are never needed: a state is a whole message).
      const newest = new Map<number, string>();
      for (const f of [...frames, ...(await framesFor(c, 2500))]) {
        for (const e of [...f.entered, ...f.updated]) if (e.state?.msg?.$case === "chat") newest.set(e.id, e.state.msg.value.msg);
      }
      crowd.forEach((e, i) => expect(newest.get(e.id)).toBe(stateOf(i, lastTick).value.msg));
    });
  }, 15_000);
});

describe("Radius Rumble in frames", () => {
  let srv: TestServer;
  let accounts = 0;
  beforeAll(async () => {
    srv = await startTestServer(radiusRumble, { resumeGrace: 30 });
  });
  afterAll(() => srv.stop());

  async function player(): Promise<TestClient> {
    const c = await TestClient.connect(srv.url);
    const name = `F${++accounts}`;
    expect(await register(c, name, "password")).toBe("ok");
    expect(await login(c, name, "password")).toBe("ok");
    return c;
  }

  test("frames before logging in are refused; the lobby goes on", async () => {
    const c = await TestClient.connect(srv.url);
    expect(await askFrames(c)).toMatchObject({ ok: false, reason: FramesRefusal.notInWorld });
    expect(await register(c, `F${++accounts}`, "password")).toBe("ok");
    c.close();
  });

  test("a frame client sees its own player and the spores near it, and gets no per-player messages; a classic client is unchanged", async () => {
    const classic = await player();
    await classic.expect("player");
    const c = await player();
    const info = await askFrames(c);
    expect(info).toMatchObject({ ok: true, viewRadius: 1200, precision: 0.1, tickHz: 20 });
    // What came before the answer (its own player, a batch of spores or two) was the classic welcome.
    for (let i = c.packets.length - 1; i >= 0; i--) if (c.packets[i]!.msg?.$case !== "worldFrame") c.packets.splice(i, 1);
    const first = await frameWhere(c, (f) => f.reset, "reset");
    const own = first.entered.find((e) => e.id === first.own)!;
    expect(own.kind).toBe("player");
    expect(own.state?.msg?.$case).toBe("player");
    const me = own.state!.msg!.value as { id: number; radius: number };
    expect(me.id).toBe(c.id);
    // 20 at the start; a spore it dropped since (a chance each tick) takes a little off.
    expect(me.radius).toBeGreaterThan(15);
    expect(me.radius).toBeLessThanOrEqual(20);
    const spores = first.entered.filter((e) => e.kind === "spore");
    expect(spores.length).toBeGreaterThan(10);
    expect(spores.length).toBeLessThan(1000);
    for (const s of spores) expect(Math.hypot(s.x - own.x, s.y - own.y) * 0.1).toBeLessThanOrEqual(1200);
    c.send({ $case: "playerDirection", value: { direction: 0 } });
    await Bun.sleep(500);
    expect(c.packets.filter((p) => ["player", "spore", "sporesBatch", "sporeConsumed"].includes(p.msg!.$case))).toHaveLength(0);
    const moved = await frameWhere(c, (f) => f.updated.some((e) => e.id === first.own), "own moved");
    expect(moved.updated.find((e) => e.id === first.own)!.x).toBeGreaterThan(own.x);
    // The classic client still gets the frame client's player every tick.
    await classic.drain(200);
    const seen = await classic.drain(500, "player");
    expect(seen.filter((p) => p.senderId === c.id).length).toBeGreaterThanOrEqual(7);
    classic.close();
    c.close();
  });

  test("a resumed session's first frame is its whole view again", async () => {
    const c = await player();
    c.send({ $case: "resumeTokenRequest", value: {} });
    const { token } = (await c.expect("resumeToken")).value;
    await askFrames(c);
    const first = await frameWhere(c, (f) => f.reset, "reset");
    await c.close(4000);
    await waitFor(() => srv.hub.clients.get(c.id)?.open === false);
    await Bun.sleep(300);
    const back = await TestClient.connect(srv.url);
    back.send({ $case: "resumeRequest", value: { token } });
    const response = (await back.expect("resumeResponse")).value;
    expect(response.ok).toBe(true);
    // Nothing was kept of the frames while away: the replay holds none.
    const whole = await frameWhere(back, (f) => f.reset, "a reset after resume");
    expect(whole.seq).toBeGreaterThan(first.seq);
    expect(whole.own).toBeGreaterThan(0);
    expect(whole.entered.some((e) => e.id === whole.own)).toBe(true);
    expect(whole.entered.filter((e) => e.kind === "spore").length).toBeGreaterThan(10);
    back.close();
  });
});

describe("Radius Rumble in a world larger than the series'", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer(radiusRumble, { worldSize: 20_000 });
  });
  afterAll(() => srv.stop());

  test("a client of the series gets its own player, then only what is in its view; one that leaves its view is a disconnect from it", async () => {
    const clients: TestClient[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await TestClient.connect(srv.url);
      expect(await register(c, `L${i}`, "password")).toBe("ok");
      expect(await login(c, `L${i}`, "password")).toBe("ok");
      clients.push(c);
    }
    const [a, b] = clients as [TestClient, TestClient, TestClient];
    const first = await a.expect("player");
    expect(first.value.id).toBe(a.id);
    await Bun.sleep(600);
    const packets = a.packets.splice(0);
    const spores = packets.filter((p) => p.msg?.$case === "spore").map((p) => p.msg!.value as { x: number; y: number });
    expect(packets.some((p) => p.msg?.$case === "sporesBatch")).toBe(false);
    // 11,111 spores in 20000²: about 125 in a view of 1200.
    expect(spores.length).toBeGreaterThan(30);
    expect(spores.length).toBeLessThan(400);
    for (const s of spores) expect(Math.hypot(s.x - first.value.x, s.y - first.value.y)).toBeLessThanOrEqual(1200 * 1.15 + 1);
    for (const p of packets) if (p.msg?.$case === "player") expect(Math.hypot(p.msg.value.x - first.value.x, p.msg.value.y - first.value.y)).toBeLessThanOrEqual(1200 * 1.15 + 1);
    // Put b beside a, then far away: a sees it come (a player packet), then go (its disconnect, "Out of view").
    const room = srv.rooms.get<WorldRoom>(WORLD_ROOM)!;
    const teleport = (id: number, x: number, y: number) => {
      const player = room.world.players.get(id)!;
      player.x = x;
      player.y = y;
      room.world.setDirection(id, 0);
    };
    teleport(b.id, first.value.x + 100, first.value.y);
    await waitFor(() => a.packets.some((p) => p.msg?.$case === "player" && p.senderId === b.id), 3000, "b in a's view");
    teleport(b.id, first.value.x + 5000, first.value.y);
    const goneAt = () => a.packets.findIndex((p) => p.msg?.$case === "disconnect" && p.senderId === b.id);
    await waitFor(() => goneAt() >= 0, 3000, "b's disconnect");
    expect(a.packets[goneAt()]!.msg!.value).toEqual({ reason: "Out of view" });
    await Bun.sleep(300);
    expect(a.packets.slice(goneAt()).filter((p) => p.msg?.$case === "player" && p.senderId === b.id)).toHaveLength(0);
    // A client that takes frames there sees b come and move at 20 Hz, within its budget.
    const f = clients[2]!;
    expect((await askFrames(f)).ok).toBe(true);
    f.send({ $case: "playerDirection", value: { direction: Math.PI } });
    const own = room.world.players.get(f.id)!;
    teleport(b.id, own.x + 100, own.y);
    const entered = await frameWhere(f, (fr) => fr.entered.some((e) => e.kind === "player" && (e.state!.msg!.value as { id: number }).id === b.id), "b entered");
    const bEntity = entered.entered.find((e) => e.kind === "player" && (e.state!.msg!.value as { id: number }).id === b.id)!.id;
    const updates = (await framesFor(f, 500)).filter((fr) => fr.updated.some((e) => e.id === bEntity));
    expect(updates.length).toBeGreaterThanOrEqual(7);
    for (const c of clients) c.close();
  });
});
