// The canary of the benchmarks that load a server with work of one kind (searches, storage writes):
// a pair chatting in the lobby on a fixed schedule (every 20 ms, latency measured; a chat that never
// arrives is lost), a player in the world counting its own updates (20 Hz is the tick), and /healthz
// polled, all for one phase while the benchmark's load runs beside them.
import { decodePacket, newChat } from "../../packets/index.ts";
import { login, TestClient } from "../client.ts";
import { Histogram } from "../histogram.ts";

export interface CanaryFigures {
  chatsLost: number;
  chatP50: number;
  chatP99: number;
  chatMax: number;
  worldHz: number;
  healthzMaxMs: number;
  /** How long the phase ran, from the first chat. */
  elapsed: number;
}

/**
 * Runs the canary against the server for `seconds`, with the load `load(until)` starts (promises
 * that end by `until`, a performance.now() time); `player` is an account that logs into the world
 * (undefined: a game without one, whose world figure is then NaN).
 */
export async function canary(
  srv: { url: string; port: number },
  player: { name: string; password: string } | undefined,
  seconds: number,
  load: (until: number) => Promise<unknown>[],
): Promise<CanaryFigures> {
  const [talker, listener, inWorld] = await Promise.all([TestClient.connect(srv.url), TestClient.connect(srv.url), TestClient.connect(srv.url)]);
  if (player) {
    if ((await login(inWorld, player.name, player.password)) !== "ok") throw new Error("the world player cannot log in");
    await inWorld.expect("player");
  }
  const sentAt = new Map<string, number>();
  const chat = new Histogram();
  listener.ws.addEventListener("message", (ev) => {
    const msg = decodePacket(new Uint8Array(ev.data as ArrayBuffer)).msg;
    if (msg?.$case !== "chat") return;
    const at = sentAt.get(msg.value.msg);
    if (at !== undefined) chat.record(performance.now() - at);
    sentAt.delete(msg.value.msg);
  });
  const until = performance.now() + seconds * 1000;
  const loading = load(until);
  let healthzMax = 0;
  const ownUpdatesBefore = inWorld.packets.length;
  const chatting = (async () => {
    const start = performance.now();
    for (let i = 0; performance.now() < until; i++) {
      const due = start + i * 20;
      if (due > performance.now()) await Bun.sleep(due - performance.now());
      sentAt.set(`canary ${i}`, performance.now());
      talker.send(newChat(`canary ${i}`));
    }
  })();
  const polling = (async () => {
    while (performance.now() < until) {
      const t = performance.now();
      await fetch(`http://127.0.0.1:${srv.port}/healthz`);
      healthzMax = Math.max(healthzMax, performance.now() - t);
      await Bun.sleep(100);
    }
  })();
  const started = performance.now();
  await Promise.all([chatting, polling, ...loading]);
  const elapsed = (performance.now() - started) / 1000;
  const ownUpdates = inWorld.packets.slice(ownUpdatesBefore).filter((p) => p.msg?.$case === "player" && p.msg.value.id === inWorld.id).length;
  // Chats still on their way get 5 s more; what has not arrived then is lost.
  const deadline = performance.now() + 5000;
  while (sentAt.size > 0 && performance.now() < deadline) await Bun.sleep(50);
  await Promise.all([talker.close(), listener.close(), inWorld.close()]);
  await Bun.sleep(500); // the player's leaving and the load's closes settle
  return {
    chatsLost: sentAt.size,
    chatP50: chat.percentile(0.5),
    chatP99: chat.percentile(0.99),
    chatMax: chat.max,
    worldHz: player ? ownUpdates / elapsed : NaN,
    healthzMaxMs: healthzMax,
    elapsed,
  };
}
