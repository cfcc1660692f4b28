// The traffic between nodes, over Redis pub/sub (the node's one client, redis.ts): binary batches,
// published on the commands connection and heard on the subscriber, which subscribes again by itself
// when Redis comes back. Every node listens on two channels: `mmo:all`, for what every node hears (topics,
// a room owner's output), and its own inbox, for what only it needs (a room's traffic to its owner).
// Frames are coalesced: whatever a node says within FLUSH_MS goes out as one message per channel, in
// the order it was said. While Redis is away, frames are dropped and counted, never queued.
import { errorText, type Logger } from "../log.ts";
import { BatchWriter, readBatch, type Batch, type Frame } from "./frames.ts";
import type { RedisConnection } from "./redis.ts";
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

/** The upper bounds (s) of the relay lag's buckets: from a batch's send on its node to its arrival here. */
const LAG_BOUNDS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5];

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
  /** Each batch's delay from its origin's send to its arrival here: batches by bucket (the last past every bound), their sum in seconds, their count. */
  readonly lag = { bounds: LAG_BOUNDS, counts: LAG_BOUNDS.map(() => 0).concat(0), sum: 0, count: 0 };
  private readonly outboxes = new Map<string, BatchWriter>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private readyOnce = false;

  constructor(
    /** The node's commands connection (redis.ts): publishes go out on it. */
    private readonly pub: RedisConnection,
    /** The bus's own: subscribed to `mmo:all` and this node's inbox. */
    private readonly sub: RedisConnection,
    readonly node: string,
    private readonly log: Logger,
    private readonly seal: Seal,
    /** Each batch from another node (or this node's echo), in the order it arrives. */
    private readonly onBatch: (batch: Batch) => void,
  ) {
    sub.on("ready", () => {
      if (this.readyOnce) this.counters.reconnects++;
      this.readyOnce = true;
    });
    sub.on("messageBuffer", (_channel: Buffer, message: Buffer) => this.received(message));
  }

  /** Connects the subscriber and subscribes; rejects when Redis cannot be reached. */
  async subscribe(): Promise<void> {
    await this.sub.connect();
    await this.sub.subscribe(ALL_CHANNEL, INBOX_PREFIX + this.node);
  }

  /** Both connections are up (and the subscriptions in place). */
  get up(): boolean {
    return this.pub.status === "ready" && this.sub.status === "ready";
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

  /** Sends what waits and closes the subscriber (the commands connection is the cluster's to close). */
  close(): void {
    this.flush();
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
    const lag = Math.max(0, Date.now() - batch.sentAt) / 1000;
    let bucket = 0;
    while (bucket < LAG_BOUNDS.length && lag > LAG_BOUNDS[bucket]!) bucket++;
    this.lag.counts[bucket]!++;
    this.lag.sum += lag;
    this.lag.count++;
    this.onBatch(batch);
  }
}
