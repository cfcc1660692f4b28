// Bun.serve: the HTTP routes and the websocket handlers that feed the hub, nothing else.
import type { Server } from "bun";
import { Admission } from "./admission.ts";
import type { Config } from "./config.ts";
import type { ClientState } from "./hub/client.ts";
import { Hub } from "./hub/hub.ts";
import { Stats } from "./hub/stats.ts";
import { CloseCode, WebSocketClient, type ClientContext, type SocketData } from "./hub/websocket-client.ts";
import type { Logger } from "./log.ts";
import { newDisconnect } from "./packets/index.ts";
import { seededRandom } from "./game/random.ts";
import { World } from "./game/world.ts";
import { WORLD } from "./hub/topics.ts";
import { Connected } from "./states/connected.ts";
import type { Services } from "./states/services.ts";
import { LoginThrottle, Sessions } from "./store/accounts.ts";
import { DB_FILE, Store } from "./store/store.ts";
import { resolve } from "node:path";

export interface MmoServer {
  readonly server: Server<SocketData>;
  readonly hub: Hub<WebSocketClient>;
  readonly stats: Stats;
  readonly services: Services;
  readonly port: number;
  /** Tells every client the server is going, closes them with 1001 and stops; resolves when done. */
  shutdown(timeoutMs?: number): Promise<void>;
}

export interface ServerParts {
  /** The state every connection starts in; Connected unless a test or an embedder says otherwise. */
  firstState?: (services: Services) => ClientState;
}

const SHUTDOWN_REASON = "server shutting down";
const SWEEP_INTERVAL_MS = 1000;
const PRUNE_EVERY_SWEEPS = 60;
/** Best scores reach the database at most this often while players play (and always on leaving). */
const SCORE_FLUSH_EVERY_SWEEPS = 5;

export function startServer(config: Config, log: Logger, parts: ServerParts = {}): MmoServer {
  const store = Store.open(config.dataDir);
  log.info(`Database ${resolve(config.dataDir, DB_FILE)} (schema version ${store.schemaVersion})`);
  const hub = new Hub<WebSocketClient>(log);
  const seed = config.seed || crypto.getRandomValues(new Uint32Array(1))[0]!;
  log.info(`World seed ${seed}`);
  const world = new World({
    random: seededRandom(seed),
    now: () => services.now(),
    output: {
      toAll: (senderId, msg) => hub.publish(senderId, msg, WORLD),
      toOthers: (senderId, msg) => hub.broadcast(senderId, msg, WORLD),
      toPlayer: (playerId, senderId, msg) => hub.clients.get(playerId)?.socketSendAs(msg, senderId),
      refused: (playerId, why) => hub.clients.get(playerId)?.log.debug(`Refused a claim: ${why}`),
    },
  });
  const services: Services = {
    store,
    world,
    throttle: new LoginThrottle(),
    sessions: new Sessions(),
    now: () => performance.now(),
  };
  const makeFirstState = parts.firstState ?? ((s: Services) => new Connected(s));
  const stats = new Stats();
  const admission = new Admission(config);
  const context: ClientContext = {
    hub,
    firstState: () => makeFirstState(services),
    log,
    limits: config,
    stats,
  };

  const server = Bun.serve<SocketData>({
    port: config.port,
    hostname: config.host,
    fetch(req, server) {
      const url = new URL(req.url);
      if (url.pathname === "/healthz") return Response.json(health());
      if (url.pathname !== "/ws") return new Response("Not found\n", { status: 404 });
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("This endpoint speaks WebSocket only: connect with a WebSocket client to ws://HOST:PORT/ws\n", {
          status: 400,
        });
      }
      const peer = server.requestIP(req);
      const ip = peer?.address ?? "unknown";
      const refusal = admission.admit(ip, req.headers.get("origin"));
      if (refusal) {
        stats.refuse(refusal.cause);
        log.warn(`Refused a connection from ${ip}: ${refusal.message}`);
        return new Response(refusal.message + "\n", { status: refusal.status });
      }
      if (server.upgrade(req, { data: { ip, remoteAddress: formatAddress(peer) } })) return undefined;
      admission.release(ip);
      return new Response("WebSocket upgrade failed: send a valid WebSocket handshake\n", { status: 400 });
    },
    websocket: {
      perMessageDeflate: false,
      maxPayloadLength: config.maxPayload,
      backpressureLimit: config.backpressureLimit,
      closeOnBackpressureLimit: false,
      idleTimeout: config.idleTimeout,
      sendPings: true,
      open(ws) {
        log.info(`New client connected from ${ws.data.remoteAddress}`);
        stats.connectionsOpened++;
        const client = new WebSocketClient(ws, context);
        ws.data.client = client;
        hub.register(client);
      },
      message(ws, frame) {
        ws.data.client?.receive(frame);
      },
      close(ws, code, reason) {
        admission.release(ws.data.ip);
        ws.data.client?.closed(code, reason);
      },
    },
  });
  hub.attach((topic, bytes) => void server.publish(topic, bytes));
  const startedAt = performance.now();
  const health = () => ({
    status: stopping ? "stopping" : "ok",
    uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
    clients: hub.size,
    players: world.players.size,
    spores: world.spores.size,
    tickMs: world.tickStats(),
  });

  // One timer for every client, not one per client.
  let sweeps = 0;
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const client of hub.clients.values()) client.checkBackpressure(now);
    if (++sweeps % PRUNE_EVERY_SWEEPS === 0) services.throttle.prune(services.now());
    if (sweeps % SCORE_FLUSH_EVERY_SWEEPS === 0) flushScores();
  }, SWEEP_INTERVAL_MS);
  const flushScores = () => {
    const scores = world.takeDirtyScores();
    if (scores.length === 0) return;
    try {
      store.saveBestScores(scores);
    } catch (err) {
      log.error(`Saving ${scores.length} best score(s) failed: ${err instanceof Error ? err.message : err}`);
    }
  };
  world.start();

  let stopping: Promise<void> | undefined;
  const shutdown = (timeoutMs = 5000): Promise<void> => {
    stopping ??= (async () => {
      log.info(`Shutting down: closing ${hub.size} client connection(s)`);
      void server.stop(false);
      for (const client of hub.clients.values()) {
        client.socketSendAs(newDisconnect(SHUTDOWN_REASON), 0);
        client.close(SHUTDOWN_REASON, CloseCode.goingAway);
      }
      const deadline = performance.now() + timeoutMs;
      while (hub.size > 0 && performance.now() < deadline) await Bun.sleep(10);
      clearInterval(sweep);
      world.stop();
      flushScores();
      // Whoever has not finished the closing handshake by now is cut off.
      await server.stop(true);
      store.close();
    })();
    return stopping;
  };

  return { server, hub, stats, services, port: server.port ?? config.port, shutdown };
}

function formatAddress(ip: { address: string; port: number } | null): string {
  if (!ip) return "unknown";
  return ip.address.includes(":") ? `[${ip.address}]:${ip.port}` : `${ip.address}:${ip.port}`;
}
