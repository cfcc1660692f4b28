// The composition root: builds the parts of one server in the order they need each other, starts the
// game and Bun.serve, and hands back what an embedder or a test needs.
import type { Server } from "bun";
import pkg from "../../package.json" with { type: "json" };
import { Accounts } from "../accounts/accounts.ts";
import { Moderation, PUT_OUT_CLOSE } from "../accounts/moderation.ts";
import type { Cluster } from "../cluster/cluster.ts";
import type { Config } from "../config.ts";
import { ChatGate } from "../hub/chat.ts";
import { CHANNEL_TOPIC_PREFIX } from "../players/channels.ts";
import { DEFAULT_PLAYERS_LIMITS, LocalPresence, PLAYER_TOPIC_PREFIX } from "../players/core.ts";
import { Players } from "../players/players.ts";
import { adminApi } from "../http/admin.ts";
import { Dashboard } from "../http/dashboard.ts";
import { Metrics } from "../http/metrics.ts";
import { Hub, localIds } from "../hub/hub.ts";
import { Resumption } from "../hub/resume.ts";
import { StateMachine } from "../hub/states.ts";
import { Stats } from "../hub/stats.ts";
import type { ClientContext, SocketData, WebSocketClient } from "../hub/websocket-client.ts";
import { errorText, LogThrottle, type Logger } from "../log.ts";
import { PROTO_HASH } from "../packets/proto-hash.ts";
import type { Game } from "../rooms/game.ts";
import { Matches } from "../rooms/matches.ts";
import { Rooms } from "../rooms/rooms.ts";
import { SharedRooms } from "../rooms/shared-rooms.ts";
import { Leaderboards } from "../store/leaderboards.ts";
import { openStore } from "../store/open.ts";
import { Storage } from "../store/storage.ts";
import type { Store } from "../store/store.ts";
import { Admission } from "./admission.ts";
import { ProxyTrust } from "./client-address.ts";
import { loadClientFiles, loadTls } from "./files.ts";
import { boardChanges, clusterMetrics, clusterModeration, friendsChanged, linkCluster, partyMoved, sharedAccounts, sharedQueues, topicRelay, withClusterTiles } from "./cluster-link.ts";
import { Lifecycle } from "./lifecycle.ts";
import { readSavedRun, restoreRun, saveRun, type RestartParts } from "./restart.ts";
import { ResumeMoves } from "./resume-link.ts";
import { fallback, routes, type RouteDeps } from "./routes.ts";
import { websocketHandlers } from "./websocket.ts";

/** Refused HTTP requests are logged at most this often (each is still answered). */
const REFUSAL_LOG_MS = 1000;

/** What the parts of one server share; `now` may be replaced (tests step the clock by hand). */
export interface Services {
  store: Store;
  storage: Storage;
  leaderboards: Leaderboards;
  accounts: Accounts;
  players: Players;
  rooms: Rooms;
  stats: Stats;
  /** Milliseconds on a monotonic clock, for every part that keeps time. */
  now(): number;
}

export interface MmoServer {
  readonly server: Server<SocketData>;
  readonly hub: Hub<WebSocketClient>;
  readonly stats: Stats;
  readonly services: Services;
  readonly rooms: Rooms;
  readonly game: Game;
  readonly port: number;
  /** Tells every client the server is going, closes them with 1001 and stops; resolves when done. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/**
 * Opens the store (and, with --redis-url, joins the cluster), then starts; a store that cannot be
 * opened throws StoreOpenError, a cluster that cannot be joined ClusterStartError, a bad option ConfigError.
 */
/** What a test may give a server besides its options (the testkit's startTestServer). */
export interface ServerParts {
  /** The leaderboards' clock (ms since the epoch), for a test of a board's resets. */
  boardClock?: () => number;
}

export async function startServer(config: Config, log: Logger, game: Game, parts: ServerParts = {}): Promise<MmoServer> {
  const tls = loadTls(config);
  const clientFiles = loadClientFiles(config);
  // Nodes of a cluster may share one SQLite file on one machine, on purpose.
  const store = await openStore(config, log, { exclusive: !config.redisUrl });
  log.info(`Database ${store.description} (schema version ${store.schemaVersion})`);
  let cluster: Cluster | undefined;
  try {
    // Loaded only for a cluster: a single server does not pay for the Redis client's start.
    if (config.redisUrl) cluster = await (await import("../cluster/cluster.ts")).Cluster.join(config, log);
    return await listen(config, log, game, parts, store, cluster, tls, clientFiles);
  } catch (err) {
    await cluster?.leave();
    await store.close();
    throw err;
  }
}

async function listen(
  config: Config,
  log: Logger,
  game: Game,
  parts: ServerParts,
  store: Store,
  cluster: Cluster | undefined,
  tls: ReturnType<typeof loadTls>,
  clientFiles: ReturnType<typeof loadClientFiles>,
): Promise<MmoServer> {
  const startedAt = performance.now();
  const stats = new Stats();
  // A single server with session resume keeps its game across a restart (restart.ts).
  const keepsGame = !cluster && config.resumeGrace > 0;
  const saved = keepsGame ? readSavedRun(config.dataDir, game.name, log) : undefined;
  const hub = new Hub<WebSocketClient>(log, stats, cluster ? () => cluster.ids.next() : localIds(saved?.highestId), cluster && topicRelay(cluster));
  const seed = config.seed || crypto.getRandomValues(new Uint32Array(1))[0]!;
  log.info(`Game ${game.name}, seed ${seed}`);

  const shared = cluster && new SharedRooms(cluster, hub, log);
  const clusterAccounts = cluster && sharedAccounts(cluster, log);
  const storage = new Storage(store.objects, config);
  const chat = new ChatGate(config);
  // A player's own topic and the chat channels reach their subscribers on every node.
  hub.spanPrefix(PLAYER_TOPIC_PREFIX);
  hub.spanPrefix(CHANNEL_TOPIC_PREFIX);
  hub.slicePrefix(CHANNEL_TOPIC_PREFIX);
  const leaderboards = new Leaderboards(store.boards, log, parts.boardClock, cluster && boardChanges(cluster));
  const rooms = new Rooms({ hub, storage, leaderboards, log, seed, now: () => services.now(), shared, viewBudget: config.viewBudget });
  const matches: Matches = new Matches(rooms, hub, log, cluster && sharedQueues(cluster, (match) => matches.made(match)), (userId) => players.clientOf(userId));
  const players = new Players({
    store,
    hub,
    log,
    presence: cluster ? cluster.presence : new LocalPresence(),
    chat,
    limits: { ...DEFAULT_PLAYERS_LIMITS, maxFriends: config.maxFriends, maxPartySize: config.maxPartySize, requestRate: config.playersRate, requestBurst: config.playersRate * 4 },
    inviteKey: config.clusterSecret || Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex"),
    clock: Date.now,
    now: () => performance.now(),
    friendsChanged: cluster && friendsChanged(cluster),
    rooms,
    matches,
    partyMoves: cluster && { node: cluster.node, announce: partyMoved(cluster) },
  });
  const services: Services = {
    store,
    storage,
    leaderboards,
    stats,
    now: () => performance.now(),
    accounts: new Accounts({
      store,
      stats,
      now: () => services.now(),
      limits: config,
      shared: clusterAccounts,
      endHeldSession: (userId) => resumption.endHeldOf(userId),
      endResumedSession: (userId) => resumption.endResumedOf(userId),
      renamed(userId, name) {
        players.renamed();
        return leaderboards.rename(userId, name);
      },
      refusal: (userId) => moderation.refusal(userId),
      muteOf: (userId) => moderation.muteOf(userId),
      loggedIn: (client, account) => players.online(client, account),
      loggedOut: (client, account) => players.offline(client, account),
      moved: (client, account) => players.moved(client, account),
    }),
    players,
    rooms,
  };
  const { accounts } = services;
  const metrics = new Metrics(stats, hub);
  metrics.gauge("mmo_hash_queue", "Logins and registrations waiting for a password hash", () => accounts.hashQueue.length);
  const runtime = game.create({ options: { worldSize: config.worldSize }, rooms, matches, storage, leaderboards, accounts, players, stats, metrics, log, now: () => services.now() });
  for (const [type, factory] of Object.entries(runtime.rooms)) rooms.define(type, factory);
  await leaderboards.load();
  const states = new StateMachine(runtime.states);
  if (cluster) clusterMetrics(cluster, metrics);
  const gameView = () => runtime.dashboard?.() ?? {};
  const dashboard = new Dashboard(hub, stats, startedAt, cluster ? () => withClusterTiles(cluster, gameView()) : gameView, log);
  // In a cluster, sessions move between nodes: made first, it reads the resumption and the context once they exist.
  const moves = cluster && shared && new ResumeMoves({ cluster, hub, rooms, shared, accounts, resumption: () => resumption, context: () => context, tokenTtlMs: (config.resumeGrace + 60) * 1000, log });
  const resumption = new Resumption(hub, config, { away: (client) => rooms.away(client), back: (client) => rooms.back(client) }, () => services.now(), moves);
  const context: ClientContext = {
    hub,
    states,
    log,
    limits: config,
    stats,
    resumption,
    chat,
    accountMessage: (client, msg) => accounts.handle(client, msg) || players.handle(client, msg),
    toRoom: (client, msg) => rooms.deliver(client, msg),
    released(client) {
      rooms.leave(client);
      accounts.logout(client);
    },
  };
  const moderation = new Moderation({
    store,
    log,
    clock: Date.now,
    sessionsOf: (userId) =>
      [...hub.clients.values()]
        .filter((client) => (client.open || client.session?.held) && client.account?.userId === userId)
        .map((client) => ({ clientId: client.id, state: client.stateName, address: client.ip, room: rooms.membershipOf(client.id)?.id ?? null, held: !client.open })),
    putOut: (userId, reason) => resumption.putOut(userId, reason, PUT_OUT_CLOSE),
    muteHere(userId, mute) {
      for (const client of hub.clients.values()) {
        const account = client.account;
        if (account?.userId === userId) account.mute = mute;
      }
    },
    cluster: cluster && clusterModeration(cluster),
  });
  const restartParts: RestartParts = { hub, rooms, accounts, resumption, context, log };
  if (cluster && shared && moves) {
    linkCluster(cluster, { hub, throttle: clusterAccounts!, shared, accounts, leaderboards, matches, moderation, players, log, resumeEvent: (origin, resumeEvent) => moves.heard(origin, resumeEvent) });
  }
  const lifecycle = new Lifecycle({
    hub,
    rooms,
    shared,
    accounts,
    leaderboards,
    store,
    dashboard,
    cluster,
    log,
    resumption,
    stopGame: () => runtime.stop?.(),
    saveRun: keepsGame ? () => saveRun(config.dataDir, game.name, restartParts) : undefined,
  });
  const admission = new Admission(config);

  log.info(
    config.adminToken
      ? "Operators: /metrics, /dashboard and /admin/* answer whoever shows the --admin-token"
      : "Operators: /metrics, /dashboard and /admin/* answer direct loopback requests only (a loopback socket that names no forwarding hop); set --admin-token to read them from elsewhere or through a proxy",
  );
  log.info(
    config.trustProxy.length > 0
      ? `Client addresses: from ${config.trustProxy.join(", ")}, the right-most untrusted hop of ${config.proxyHeader} (no other header is read); from anyone else, the socket's peer`
      : "Client addresses: the socket's peer (no --trust-proxy: forwarding headers are ignored)",
  );
  const routeDeps: RouteDeps = {
    admission,
    proxies: new ProxyTrust(config.trustProxy, config.proxyHeader),
    adminToken: config.adminToken,
    tls: tls !== undefined,
    refusals: new LogThrottle(REFUSAL_LOG_MS),
    stats,
    log,
    metrics,
    dashboard,
    clientFiles,
    admin: adminApi(moderation, store, storage, leaderboards),
    health: () => ({
      stopping: lifecycle.isStopping,
      body: {
        status: lifecycle.isStopping ? "stopping" : "ok",
        uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
        clients: hub.size,
        /** Of those, sessions held while their clients are away (resume.ts). */
        heldSessions: resumption.heldCount,
        game: game.name,
        version: pkg.version,
        protoHash: PROTO_HASH,
        rooms: rooms.size,
        ...runtime.health?.(),
        ...(cluster && { cluster: cluster.health() }),
      },
    }),
  };

  const server = Bun.serve<SocketData>({
    port: config.port,
    hostname: config.host,
    reusePort: config.reusePort,
    tls,
    routes: routes(routeDeps),
    fetch: (req) => fallback(routeDeps, req),
    error(err) {
      log.error(`HTTP request failed: ${errorText(err)}`);
      return new Response("Internal server error\n", { status: 500 });
    },
    websocket: websocketHandlers(config, context, hub, admission),
  });
  hub.attach((topic, bytes) => void server.publish(topic, bytes));
  if (tls) log.info("TLS on: serving https and wss");
  if (clientFiles) log.info(`Serving the client export in ${clientFiles.root} at /`);
  runtime.start?.();
  if (saved) restoreRun(saved, restartParts);
  lifecycle.start();

  return {
    server,
    hub,
    stats,
    services,
    rooms,
    game,
    port: server.port ?? config.port,
    shutdown: (timeoutMs = 5000) => lifecycle.shutdown(server, timeoutMs),
  };
}
