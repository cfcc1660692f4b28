// Bun.serve: the HTTP routes and the websocket handlers that feed the hub, nothing else.
import type { Server } from "bun";
import type { Config } from "./config.ts";
import type { ClientState } from "./hub/client.ts";
import { Hub } from "./hub/hub.ts";
import { CloseCode, WebSocketClient, type SocketData } from "./hub/websocket-client.ts";
import type { Logger } from "./log.ts";
import { newDisconnect } from "./packets/index.ts";
import { Connected } from "./states/connected.ts";

export interface MmoServer {
  readonly server: Server<SocketData>;
  readonly hub: Hub;
  readonly port: number;
  /** Tells every client the server is going, closes them with 1001 and stops; resolves when done. */
  shutdown(timeoutMs?: number): Promise<void>;
}

const SHUTDOWN_REASON = "server shutting down";

export function startServer(config: Config, log: Logger): MmoServer {
  const hub = new Hub(log);
  const firstState = (): ClientState => new Connected();

  const server = Bun.serve<SocketData>({
    port: config.port,
    hostname: config.host,
    fetch(req, server) {
      const url = new URL(req.url);
      if (url.pathname !== "/ws") return new Response("Not found\n", { status: 404 });
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("This endpoint speaks WebSocket only: connect with a WebSocket client to ws://HOST:PORT/ws\n", {
          status: 400,
        });
      }
      const remoteAddress = formatAddress(server.requestIP(req));
      if (server.upgrade(req, { data: { remoteAddress } })) return undefined;
      return new Response("WebSocket upgrade failed: send a valid WebSocket handshake\n", { status: 400 });
    },
    websocket: {
      perMessageDeflate: false,
      open(ws) {
        log.info(`New client connected from ${ws.data.remoteAddress}`);
        const client = new WebSocketClient(ws, hub, firstState, log);
        ws.data.client = client;
        hub.register(client);
      },
      message(ws, frame) {
        ws.data.client?.receive(frame);
      },
      close(ws, code, reason) {
        ws.data.client?.closed(code, reason);
      },
    },
  });
  hub.attach((topic, bytes) => void server.publish(topic, bytes));

  let stopping: Promise<void> | undefined;
  const shutdown = (timeoutMs = 5000): Promise<void> => {
    stopping ??= (async () => {
      log.info(`Shutting down: closing ${hub.size} client connection(s)`);
      for (const client of hub.clients.values()) {
        client.socketSendAs(newDisconnect(SHUTDOWN_REASON), 0);
        client.close(SHUTDOWN_REASON, CloseCode.goingAway);
      }
      const deadline = performance.now() + timeoutMs;
      while (hub.size > 0 && performance.now() < deadline) await Bun.sleep(10);
      // Whoever has not finished the closing handshake by now is cut off.
      await server.stop(true);
    })();
    return stopping;
  };

  return { server, hub, port: server.port ?? config.port, shutdown };
}

function formatAddress(ip: { address: string; port: number } | null): string {
  if (!ip) return "unknown";
  return ip.address.includes(":") ? `[${ip.address}]:${ip.port}` : `${ip.address}:${ip.port}`;
}
