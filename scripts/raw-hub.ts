// The baseline for the benchmarks: the smallest Bun hub that speaks the same protocol for the same
// scenarios. An id on connect, lobby chat via ws.publish, nothing else: no limits, states or logs.
// Usage: bun scripts/raw-hub.ts --port 0   (prints "Starting server on :PORT")
import { parseArgs } from "node:util";
import { decodePacket, encodePacket } from "../src/packets/index.ts";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { port: { type: "string", default: "0" }, host: { type: "string", default: "127.0.0.1" } } });

let lastId = 0;
const server = Bun.serve<{ id: number }>({
  port: Number(values.port),
  hostname: values.host,
  fetch(req, server) {
    return server.upgrade(req, { data: { id: ++lastId } }) ? undefined : new Response("upgrade failed", { status: 400 });
  },
  websocket: {
    perMessageDeflate: false,
    open(ws) {
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
  },
});
console.log(`Starting server on :${server.port}`);
process.on("SIGTERM", () => {
  void server.stop(true);
  process.exit(0);
});
