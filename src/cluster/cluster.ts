// This process as a node of a cluster on Redis (--redis-url): its name, the live nodes, ids unique
// across them, the bus between them, room leases and sessions, all through one Redis client (redis.ts:
// a commands connection, and the bus's subscriber). Redis going away is survived:
// every node keeps serving its own clients, the heartbeat keeps trying, and the node re-registers
// when Redis is back (logged once per outage).
import { Seal } from "./seal.ts";
import { hostname } from "node:os";
import { errorText, type Logger } from "../log.ts";
import { maskUrl, urlTarget } from "../url.ts";
import { Bus } from "./bus.ts";
import type { Batch } from "./frames.ts";
import { ClusterIds } from "./ids.ts";
import { Leases } from "./leases.ts";
import { HEARTBEAT_MS, Membership, NODE_TTL_MS } from "./membership.ts";
import { ClusterPresence } from "./presence.ts";
import { ClusterQueues } from "./queues.ts";
import { commandsOf, redisConnections, type RedisConnection } from "./redis.ts";
import { ClusterSessions, SESSION_REFRESH_MS } from "./sessions.ts";
import { ClusterStartError } from "./start-error.ts";


/** A Redis command that has not answered in this long counts as Redis being away. */
const COMMAND_TIMEOUT_MS = 2000;

export interface ClusterHealth {
  node: string;
  nodes: string[];
  bus: "up" | "down";
  /** Each shared room's owner. */
  rooms: Record<string, string>;
  /** For each shared room another node runs: how long ago (ms) its owner reported the room's figures. */
  reportedMsAgo: Record<string, number>;
}

export function defaultNodeName(): string {
  return `${hostname().split(".")[0]}-${process.pid}-${crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36)}`;
}

/** What the server does with what the cluster tells it. */
export interface ClusterHandlers {
  /** The nodes that have left since the last heartbeat (expired or stopped). */
  nodesGone(gone: ReadonlySet<string>): void;
  /** Redis answers again after an outage. */
  reconnected(): void;
  /** Each shared room's owner, for /healthz. */
  roomOwners(): Record<string, string>;
  /** For /healthz: how long ago the owner of each shared room run elsewhere reported its figures. */
  roomReportAges(): Record<string, number>;
  /** What the bus brings from the other nodes (dropped until the handlers are attached). */
  batch(batch: Batch): void;
}

const NO_HANDLERS: ClusterHandlers = { nodesGone: () => undefined, reconnected: () => undefined, roomOwners: () => ({}), roomReportAges: () => ({}), batch: () => undefined };

export class Cluster {
  readonly ids: ClusterIds;
  readonly leases: Leases;
  readonly sessions: ClusterSessions;
  readonly queues: ClusterQueues;
  readonly presence: ClusterPresence;
  /** What the server does with what the cluster tells it (attach, once the server's parts are made). */
  private handlers: ClusterHandlers = NO_HANDLERS;
  readonly bus: Bus;
  private timer: ReturnType<typeof setInterval> | undefined;
  private refreshTimer: ReturnType<typeof setInterval> | undefined;
  private down = false;
  private beating = false;
  private outages = 0;
  /** The nodes this node counts as live, to tell which have left. */
  private known = new Set<string>();
  private quietUntil = 0;

  private constructor(
    private readonly redis: RedisConnection,
    subscriber: RedisConnection,
    private readonly membership: Membership,
    private readonly log: Logger,
    seal: Seal,
  ) {
    const commands = commandsOf(redis);
    this.ids = new ClusterIds(commands, (err) => this.trouble(err));
    this.bus = new Bus(redis, subscriber, membership.info.name, log, seal, (batch) => this.handlers.batch(batch));
    this.leases = new Leases(commands, membership.info.name, seal);
    this.sessions = new ClusterSessions(commands, membership.info.name);
    this.queues = new ClusterQueues(commands, membership.info.name);
    this.presence = new ClusterPresence(commands, membership.info.name, (err) => this.trouble(err));
  }

  /** Connects, claims the node's name and reserves its first ids; throws ClusterStartError. */
  static async join({ redisUrl, nodeName, clusterSecret }: { redisUrl: string; nodeName: string; clusterSecret: string }, log: Logger): Promise<Cluster> {
    if (!clusterSecret) {
      throw new ClusterStartError("a cluster needs a secret: start every node with the same --cluster-secret (or MMO_CLUSTER_SECRET) of at least 16 characters, and keep Redis private");
    }
    const seal = new Seal(clusterSecret);
    const name = nodeName || defaultNodeName();
    const target = urlTarget(redisUrl, 6379);
    const { commands, subscriber } = redisConnections(redisUrl, COMMAND_TIMEOUT_MS);
    // What failed a connection (its promise says only that it closed).
    let failure: unknown;
    commands.on("error", (err: unknown) => (failure ??= err));
    try {
      const membership = new Membership(commandsOf(commands), { name, startedAt: Date.now() });
      const cluster = new Cluster(commands, subscriber, membership, log, seal);
      await withTimeout(commands.connect(), `connecting to ${target}`);
      if (!(await withTimeout(membership.claim(), "registering the node"))) {
        throw new ClusterStartError(`the node name "${name}" is held by a live node of the cluster at ${target}: choose another --node-name`);
      }
      await withTimeout(cluster.ids.start(), "reserving ids");
      await withTimeout(cluster.bus.subscribe(), "subscribing to the bus");
      log.info(`Cluster node ${name} joined ${target}: ${membership.nodes.length} node(s) live (${membership.nodes.join(", ")})`);
      cluster.known = new Set(membership.nodes);
      cluster.timer = setInterval(() => void cluster.heartbeat(), HEARTBEAT_MS);
      cluster.refreshTimer = setInterval(() => void cluster.sessions.refresh().catch((err) => cluster.trouble(err)), SESSION_REFRESH_MS);
      return cluster;
    } catch (err) {
      commands.disconnect();
      subscriber.disconnect();
      if (err instanceof ClusterStartError) throw err;
      throw new ClusterStartError(`cannot join the cluster at ${maskUrl(redisUrl)}: ${errorText(failure ?? err)} (check --redis-url and that Redis is running)`);
    }
  }

  get node(): string {
    return this.membership.info.name;
  }

  get nodes(): string[] {
    return this.membership.nodes;
  }

  /**
   * The server's handlers, once its parts exist (the cluster is joined before them, so that a node
   * that cannot reach Redis never starts): called once.
   */
  attach(handlers: ClusterHandlers): void {
    if (this.handlers !== NO_HANDLERS) throw new Error("the cluster's handlers are attached already");
    this.handlers = handlers;
  }

  /** Redis answers, and the bus's connections are up. */
  get up(): boolean {
    return !this.down && this.bus.up;
  }

  /** Outages of Redis seen by this node. */
  get outageCount(): number {
    return this.outages;
  }

  health(): ClusterHealth {
    return { node: this.node, nodes: this.nodes, bus: this.up ? "up" : "down", rooms: this.handlers.roomOwners(), reportedMsAgo: this.handlers.roomReportAges() };
  }

  /** Leaves the cluster at once (its name free for a successor) and closes the connections. */
  async leave(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.refreshTimer);
    this.bus.close();
    await withTimeout(this.membership.leave(), "leaving").catch(() => undefined);
    this.redis.disconnect();
  }

  private async heartbeat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const restarted = await withTimeout(this.membership.beat(), "the heartbeat");
      if (this.down || restarted) {
        // Nodes re-register within a heartbeat of Redis coming back: none counts as gone meanwhile.
        this.quietUntil = performance.now() + NODE_TTL_MS;
        this.log.info(`Cluster: Redis is back${restarted ? " (restarted)" : ""}; node ${this.node} registered again, ${this.nodes.length} node(s) live`);
        if (this.down) this.down = false;
        else this.outages++;
        this.handlers.reconnected();
      }
      const live = new Set(this.nodes);
      if (performance.now() < this.quietUntil) {
        for (const node of live) this.known.add(node);
        return;
      }
      const gone = new Set([...this.known].filter((node) => !live.has(node)));
      this.known = live;
      if (gone.size > 0) {
        this.log.info(`Cluster: node(s) ${[...gone].join(", ")} left; ${live.size} node(s) live`);
        this.handlers.nodesGone(gone);
      }
    } catch (err) {
      this.trouble(err);
    } finally {
      this.beating = false;
    }
  }

  /** Redis did not answer: logged once per outage. */
  trouble(err: unknown): void {
    if (this.down) return;
    this.down = true;
    this.outages++;
    this.log.warn(`Cluster: Redis unreachable (${errorText(err)}); serving this node's clients alone until it is back`);
  }
}

async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Redis within ${COMMAND_TIMEOUT_MS} ms (${what})`)), COMMAND_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
