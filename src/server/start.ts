// Bun.serve: the HTTP routes and the websocket handlers that feed the hub, and the parts they serve.
import type { Server } from "bun";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Admission } from "./admission.ts";
import { ConfigError, type Config } from "../config.ts";
import { seededRandom } from "../rooms/random.ts";
import { World } from "../games/radius-rumble/world.ts";
import { ClientFiles } from "../http/client-files.ts";
import { Dashboard } from "../http/dashboard.ts";
import { createMetrics } from "../http/metrics.ts";
import type { ClientState } from "../hub/client.ts";
import { Hub } from "../hub/hub.ts";
import { Stats } from "../hub/stats.ts";
import { WORLD } from "../hub/topics.ts";
import { CloseCode, WebSocketClient, type ClientContext, type SocketData } from "../hub/websocket-client.ts";
import { errorText, type Logger } from "../log.ts";
import { newDisconnect } from "../packets/index.ts";
import { Connected } from "../accounts/lobby.ts";
import type { Services } from "../games/radius-rumble/services.ts";
import { LoginThrottle, Sessions } from "../accounts/rules.ts";
import { DB_FILE, Store } from "../store/store.ts";

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

/** Reads the certificate and key; a missing or unreadable file stops the start (no silent plain HTTP). */
function loadTls(config: Config): { cert: string; key: string } | undefined {
  if (!config.cert) return undefined;
  const read = (path: string, what: string) => {
    try {
      const pem = readFileSync(path, "utf8");
      if (!pem.includes("-----BEGIN")) throw new Error("not a PEM file");
      return pem;
    } catch (err) {
      throw new ConfigError(`cannot use the TLS ${what} ${path}: ${errorText(err)}`);
    }
  };
  return { cert: read(config.cert, "certificate"), key: read(config.key, "key") };
}

function loadClientFiles(config: Config): ClientFiles | undefined {
  if (!config.clientPath) return undefined;
  try {
    return new ClientFiles(config.clientPath);
  } catch (err) {
    throw new ConfigError(`cannot serve the client export ${config.clientPath}: ${errorText(err)}`);
  }
}

export function startServer(config: Config, log: Logger, parts: ServerParts = {}): MmoServer {
  const tls = loadTls(config);
  const clientFiles = loadClientFiles(config);
  const store = Store.open(config.dataDir);
  log.info(`Database ${resolve(config.dataDir, DB_FILE)} (schema version ${store.schemaVersion})`);
  const startedAt = performance.now();
  const stats = new Stats();
  const hub = new Hub<WebSocketClient>(log, stats);
  const seed = config.seed || crypto.getRandomValues(new Uint32Array(1))[0]!;
  log.info(`World seed ${seed}`);
  const world: World = new World({
    random: seededRandom(seed),
    now: () => services.now(),
    output: {
      toAll: (senderId, msg) => hub.publish(senderId, msg, WORLD),
      toOthers: (senderId, msg) => hub.broadcast(senderId, msg, WORLD),
      toPlayer: (playerId, senderId, msg) => hub.clients.get(playerId)?.socketSendAs(msg, senderId),
      refused: (playerId, why) => hub.clients.get(playerId)?.log.debug(`Refused a claim: ${why}`),
    },
    onTick: (ms) => metrics.tickSeconds.observe(ms / 1000),
  });
  const metrics = createMetrics(stats, hub, world);
  const dashboard = new Dashboard(hub, world, stats, startedAt);
  const services: Services = {
    store,
    stats,
    world,
    throttle: new LoginThrottle(),
    sessions: new Sessions(),
    now: () => performance.now(),
  };
  const makeFirstState = parts.firstState ?? ((s: Services) => new Connected(s));
  const admission = new Admission(config);
  const context: ClientContext = {
    hub,
    firstState: () => makeFirstState(services),
    log,
    limits: config,
    stats,
  };

  let stopping: Promise<void> | undefined;
  const health = () => ({
    status: stopping ? "stopping" : "ok",
    uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
    clients: hub.size,
    players: world.players.size,
    spores: world.spores.size,
    tickMs: world.tickStats(),
  });

  const upgrade = (req: Request, server: Server<SocketData>): Response | undefined => {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("This endpoint speaks WebSocket only: connect with a WebSocket client to ws://HOST:PORT/ws\n", { status: 400 });
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
  };

  const server = Bun.serve<SocketData>({
    port: config.port,
    hostname: config.host,
    tls,
    async fetch(req, server) {
      const { pathname } = new URL(req.url);
      switch (pathname) {
        case "/ws":
          return upgrade(req, server);
        case "/healthz":
          return Response.json(health(), { status: stopping ? 503 : 200 });
        case "/metrics":
          return new Response(await metrics.registry.metrics(), { headers: { "Content-Type": metrics.registry.contentType } });
        case "/dashboard":
          return dashboard.page();
        case "/dashboard/events":
          return dashboard.events();
      }
      return clientFiles ? clientFiles.serve(req, pathname) : new Response("Not found\n", { status: 404 });
    },
    error(err) {
      log.error(`HTTP request failed: ${errorText(err)}`);
      return new Response("Internal server error\n", { status: 500 });
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
  if (tls) log.info("TLS on: serving https and wss");
  if (clientFiles) log.info(`Serving the client export in ${clientFiles.root} at /`);

  const flushScores = () => {
    const scores = world.takeDirtyScores();
    if (scores.length === 0) return;
    try {
      store.saveBestScores(scores);
    } catch (err) {
      log.error(`Saving ${scores.length} best score(s) failed: ${errorText(err)}`);
    }
  };
  // One timer for every client, not one per client.
  let sweeps = 0;
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const client of hub.clients.values()) client.checkBackpressure(now);
    if (++sweeps % PRUNE_EVERY_SWEEPS === 0) services.throttle.prune(services.now());
    if (sweeps % SCORE_FLUSH_EVERY_SWEEPS === 0) flushScores();
  }, SWEEP_INTERVAL_MS);
  world.start();

  const shutdown = (timeoutMs = 5000): Promise<void> => {
    stopping ??= (async () => {
      log.info(`Shutting down: closing ${hub.size} client connection(s)`);
      void server.stop(false);
      dashboard.close();
      for (const client of hub.clients.values()) {
        client.socketSendAs(newDisconnect(SHUTDOWN_REASON), 0);
        client.close(SHUTDOWN_REASON, CloseCode.goingAway);
      }
      const deadline = performance.now() + timeoutMs;
      while (hub.size > 0 && performance.now() < deadline) await Bun.sleep(10);
      clearInterval(sweep);
      world.stop();
      // Whoever has not finished the closing handshake by now is cut off.
      await server.stop(true);
      flushScores();
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
