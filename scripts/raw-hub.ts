// The baseline for the benchmarks: the smallest Bun hub that speaks the same protocol for the same
// scenarios. An id on connect, lobby chat via ws.publish, nothing else: no limits, states or logs.
// With --frames BYTES, it is also the world's transport floor (bench:world): every 50 ms it sends each
// client one frame of that size (the same bytes for all) and times each tick's sends, which
// GET /ticks returns ({ p50, p99, max } in ms over the last 200 ticks).
// Usage: bun scripts/raw-hub.ts --port 0 [--frames BYTES]   (prints "Starting server on :PORT")
import type { ServerWebSocket } from "bun";
import { parseArgs } from "node:util";
import { decodePacket, encodePacket } from "../src/packets/index.ts";
import { percentiles } from "../src/world/world.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { port: { type: "string", default: "0" }, host: { type: "string", default: "127.0.0.1" }, frames: { type: "string", default: "" } },
});
const frameBytes = Number(values.frames) || 0;
const sockets = new Set<ServerWebSocket<{ id: number }>>();
const tickMs: number[] = [];

let lastId = 0;
const server = Bun.serve<{ id: number }>({
  port: Number(values.port),
  hostname: values.host,
  fetch(req, server) {
    if (new URL(req.url).pathname === "/ticks") {
      return Response.json({ ...percentiles(tickMs), ticks: tickMs.length });
    }
    return server.upgrade(req, { data: { id: ++lastId } }) ? undefined : new Response("upgrade failed", { status: 400 });
  },
  websocket: {
    perMessageDeflate: false,
    open(ws) {
      sockets.add(ws);
      ws.subscribe("lobby");
      ws.send(encodePacket(ws.data.id, { $case: "id", value: { id: ws.data.id } }));
    },
    message(ws, frame) {
      if (typeof frame === "string") return;
      try {
        const packet = decodePacket(frame);
        if (packet.msg?.$case === "chat") ws.publish("lobby", encodePacket(ws.data.id, packet.msg));
      } catch {
        // dropped
      }
    },
    close(ws) {
      sockets.delete(ws);
    },
  },
});
if (frameBytes > 0) {
  // One buffer, sent to every client, as a world's frames are sent (the clients read nothing of it).
  const frame = new Uint8Array(frameBytes);
  setInterval(() => {
    const started = performance.now();
    for (const ws of sockets) ws.send(frame);
    tickMs.push(performance.now() - started);
    if (tickMs.length > 200) tickMs.shift();
  }, 50);
}
console.log(`Starting server on :${server.port}`);
process.on("SIGTERM", () => {
  void server.stop(true);
  process.exit(0);
});
