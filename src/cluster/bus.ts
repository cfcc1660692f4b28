// The traffic between nodes, over Redis pub/sub with ioredis: binary batches, re-subscribed by the
// client itself when Redis comes back (bun run bench:relay measured both candidates; docs/cluster.md says
// why this one). Every node listens on two channels: `mmo:all`, for what every node hears (topics,
// a room owner's output), and its own inbox, for what only it needs (a room's traffic to its owner).
// Frames are coalesced: whatever a node says within FLUSH_MS goes out as one message per channel, in
// the order it was said. While Redis is away, frames are dropped and counted, never queued.
import Redis from "ioredis";
import { errorText, type Logger } from "../log.ts";
import { BatchWriter, readBatch, type Batch, type Frame } from "./frames.ts";
import { BUS_FORMAT, type Seal } from "./seal.ts";

/** A rejected bus message is logged at most this often (with a count); every one is counted. */
const REJECT_LOG_MS = 60_000;

export const ALL_CHANNEL = "mmo:all";
export const INBOX_PREFIX = "mmo:inbox:";
/** How long frames wait to be coalesced: at most a few ms of latency, a tick's worth at most. */
const FLUSH_MS = 5;
/** A batch this large goes out at once. */
const FLUSH_BYTES = 256 * 1024;
/** The origin of a batch a node sends to every node and to itself (see echo). */
const ECHO = "+echo";

/** What /metrics reports of the bus. */
export interface BusCounters {
  messagesOut: number;
  bytesOut: number;
  messagesIn: number;
  bytesIn: number;
  framesDropped: number;
  /** Rooms' per-tick state that arrived too late to be worth delivering (cluster-link.ts). */
  staleDropped: number;
  reconnects: number;
  /** Bus messages dropped unread: not signed with this cluster's secret, or of another bus format. */
  rejected: number;
}

export class Bus {
  readonly counters: BusCounters = { messagesOut: 0, bytesOut: 0, messagesIn: 0, bytesIn: 0, framesDropped: 0, staleDropped: 0, reconnects: 0, rejected: 0 };
  private rejectLoggedAt = -Infinity;
  private rejectHeld = 0;
  /** Told each batch's delay from its origin's send to its arrival here, in seconds. */
  observeLag: (seconds: number) => void = () => undefined;
  private readonly outboxes = new Map<string, BatchWriter>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private handler: (batch: Batch) => void = () => undefined;
  private readyOnce = false;

  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    readonly node: string,
    private readonly log: Logger,
    private readonly seal: Seal,
  ) {}

  /** Connects the two connections and subscribes; rejects when Redis cannot be reached. */
  static async open(url: string, node: string, log: Logger, timeoutMs: number, seal: Seal): Promise<Bus> {
    const parsed = new URL(url);
    // Parsed here: ioredis parses a URL string with the deprecated url.parse(), which warns on stderr.
    const options = {
      host: parsed.hostname.replace(/^\[|\]$/g, ""),
      port: Number(parsed.port || 6379),
      username: decodeURIComponent(parsed.username) || undefined,
      password: decodeURIComponent(parsed.password) || undefined,
      db: Number(parsed.pathname.slice(1) || 0),
      tls: parsed.protocol === "rediss:" ? {} : undefined,
      lazyConnect: true,
      connectTimeout: timeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (times: number) => Math.min(100 * times, 1000),
    };
    const bus = new Bus(new Redis(options), new Redis({ ...options, enableOfflineQueue: true }), node, log, seal);
    // Connection errors are the cluster's outage, logged once by it; ioredis would print each one.
    for (const connection of [bus.pub, bus.sub]) connection.on("error", () => undefined);
    bus.sub.on("ready", () => {
      if (bus.readyOnce) bus.counters.reconnects++;
      bus.readyOnce = true;
    });
    bus.sub.on("messageBuffer", (_channel: Buffer, message: Buffer) => bus.received(message));
    try {
      await Promise.all([bus.pub.connect(), bus.sub.connect()]);
      await bus.sub.subscribe(ALL_CHANNEL, INBOX_PREFIX + node);
    } catch (err) {
      bus.close();
      throw err;
    }
    return bus;
  }

  /** Both connections are up (and the subscriptions in place). */
  get up(): boolean {
    return this.pub.status === "ready" && this.sub.status === "ready";
  }

  onBatch(handler: (batch: Batch) => void): void {
    this.handler = handler;
  }

  /** To every other node. */
  toAll(frame: Frame): void {
    this.enqueue(ALL_CHANNEL, frame);
  }

  /** To one node (never this one: the caller handles its own). */
  toNode(node: string, frame: Frame): void {
    this.enqueue(INBOX_PREFIX + node, frame);
  }

  /**
   * To every node, this one included, after everything this node said before: the one frame a node
   * hears back, where it falls in the order every node hears `mmo:all` in (a session moving between
   * nodes is cut over at that point, so that each packet of it is kept by exactly one of them).
   */
  echo(frame: Frame): void {
    this.flush();
    const writer = new BatchWriter(this.node + ECHO);
    writer.add(frame);
    this.enqueueWriter(ALL_CHANNEL, writer);
    this.flush();
  }

  /** Sends every batch waiting now. */
  flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const up = this.pub.status === "ready";
    const sentAt = Date.now();
    for (const [channel, writer] of this.outboxes) {
      if (!up) {
        this.counters.framesDropped += writer.count;
        continue;
      }
      const message = this.seal.message(writer.finish(sentAt));
      this.counters.messagesOut++;
      this.counters.bytesOut += message.length;
      const count = writer.count;
      this.pub.publish(channel, message).catch(() => (this.counters.framesDropped += count));
    }
    this.outboxes.clear();
  }

  close(): void {
    this.flush();
    this.pub.disconnect();
    this.sub.disconnect();
  }

  private enqueueWriter(channel: string, writer: BatchWriter): void {
    this.outboxes.set(channel, writer);
  }

  private enqueue(channel: string, frame: Frame): void {
    let writer = this.outboxes.get(channel);
    if (!writer) this.outboxes.set(channel, (writer = new BatchWriter(this.node)));
    writer.add(frame);
    if (writer.bytes >= FLUSH_BYTES) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private received(message: Buffer): void {
    const unsealed = this.seal.open(message);
    if (!unsealed.ok) {
      this.counters.rejected++;
      const now = performance.now();
      if (now - this.rejectLoggedAt < REJECT_LOG_MS) {
        this.rejectHeld++;
        return;
      }
      this.rejectLoggedAt = now;
      const held = this.rejectHeld > 0 ? ` (${this.rejectHeld} more since the last line)` : "";
      this.rejectHeld = 0;
      this.log.warn(
        unsealed.why === "format"
          ? `Cluster: dropped a bus message of another bus format (${unsealed.format}, this node speaks ${BUS_FORMAT}): is a node of another version on this Redis?${held}`
          : `Cluster: dropped a bus message not signed with this cluster's secret: check that every node has the same --cluster-secret, and that nobody else can reach Redis${held}`,
      );
      return;
    }
    let batch: Batch;
    try {
      batch = readBatch(unsealed.bytes);
    } catch (err) {
      this.log.error(`Cluster: dropped a bus message of ${message.length} bytes: ${errorText(err)}`);
      return;
    }
    if (batch.origin === this.node) return;
    if (batch.origin === this.node + ECHO) batch.origin = this.node;
    this.counters.messagesIn++;
    this.counters.bytesIn += message.length;
    this.observeLag(Math.max(0, Date.now() - batch.sentAt) / 1000);
    this.handler(batch);
  }
}
