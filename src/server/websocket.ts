// Bun's websocket handlers: each connection becomes a WebSocketClient, registered with the hub.
import type { WebSocketHandler } from "bun";
import type { Config } from "../config.ts";
import type { Hub } from "../hub/hub.ts";
import { CloseCode, WebSocketClient, type ClientContext, type SocketData } from "../hub/websocket-client.ts";
import type { Admission } from "./admission.ts";

export function websocketHandlers(config: Config, context: ClientContext, hub: Hub<WebSocketClient>, admission: Admission): WebSocketHandler<SocketData> {
  return {
    perMessageDeflate: false,
    maxPayloadLength: config.maxPayload,
    // A packet that would take a client's queue past the limit closes the connection instead of
    // being dropped: a client gets every packet, or is told by the close that it did not.
    backpressureLimit: config.backpressureLimit,
    closeOnBackpressureLimit: true,
    idleTimeout: config.idleTimeout,
    sendPings: true,
    open(ws) {
      const { ip, port } = ws.data;
      context.log.info(`New client connected from ${ip.includes(":") ? `[${ip}]` : ip}:${port}`);
      context.stats.connectionsOpened++;
      const client = new WebSocketClient(ws, context);
      ws.data.client = client;
      if (hub.register(client) === undefined) {
        ws.data.client = undefined;
        context.log.warn("Refused a client: no ids left to give (the cluster's Redis has been unreachable for a while)");
        ws.close(CloseCode.tryAgainLater, "try again later");
      }
    },
    message(ws, frame) {
      ws.data.client?.receive(frame);
    },
    close(ws, code, reason) {
      admission.release(ws.data.budget);
      ws.data.client?.closed(ws, code, reason);
    },
  };
}
