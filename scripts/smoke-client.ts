// One real client for scripts/smoke.sh: connects to ws://127.0.0.1:$PORT/ws and expects its id first.
import { decodePacket } from "../src/packets/index.ts";

const url = `ws://127.0.0.1:${process.env.PORT}/ws`;
const ws = new WebSocket(url);
ws.binaryType = "arraybuffer";
const first = await new Promise<ReturnType<typeof decodePacket>>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no packet from ${url} within 5 s`)), 5000);
  ws.onmessage = (ev) => {
    clearTimeout(timer);
    resolve(decodePacket(new Uint8Array(ev.data as ArrayBuffer)));
  };
  ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
});
if (first.msg?.$case !== "id") throw new Error(`first packet was ${first.msg?.$case}, not id`);
console.log(`smoke: connected to ${url} and got id ${first.msg.value.id}`);
ws.close();
