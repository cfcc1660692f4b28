// `bun run bench:relay`: the two ways to carry the cluster's binary batches over Redis pub/sub, side
// by side on one real redis-server: base64 text over Bun's built-in RedisClient (whose publish takes
// strings only) and raw bytes over ioredis. For each batch size: batches a second from publish to
// the subscriber's callback (both ends in this process), the process's CPU time per batch, and the
// bytes on the wire. Then the restart check: the subscriber is subscribed, Redis is killed and
// started again, and a publish after the restart must reach it without any help from the caller.
// Last, the keys and scripts: the cluster's commands (a lease's renewal by EVAL, a GET, a SET with an
// expiry), 32 in flight, through each client: commands a second and the CPU time per command.
// Options: --batches 20000 --sizes 512,4096,32768 --commands 60000
import Redis from "ioredis";
import { RedisClient } from "bun";
import { parseArgs } from "node:util";
import { redisUnavailable, TestRedis } from "../src/testing/redis.ts";
import { printRecord } from "../src/testing/record.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { batches: { type: "string", default: "20000" }, sizes: { type: "string", default: "512,4096,32768" }, commands: { type: "string", default: "60000" } },
});
const COMMANDS = Number(values.commands);
const BATCHES = Number(values.batches);
const SIZES = values.sizes.split(",").map(Number);
const CHANNEL = "bench:relay";
const WINDOW = 32;
/** Publishes that failed (while Redis restarts, or a connection closing under them). */
let publishFailures = 0;
const failed = () => void publishFailures++;

interface Transport {
  name: string;
  /** Subscribes; each batch received is handed over as bytes. */
  subscribe(onBatch: (bytes: Uint8Array) => void): Promise<void>;
  publish(bytes: Uint8Array): Promise<unknown>;
  /** Bytes one batch of `size` takes in a PUBLISH. */
  wireBytes(size: number): number;
  close(): void;
}

function bunBase64(url: string): Transport {
  const pub = new RedisClient(url, { autoReconnect: true });
  const sub = new RedisClient(url, { autoReconnect: true });
  return {
    name: "Bun.redis + base64",
    async subscribe(onBatch) {
      await sub.subscribe(CHANNEL, (message) => onBatch(Buffer.from(message, "base64")));
    },
    publish(bytes) {
      return pub.publish(CHANNEL, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")).catch(failed);
    },
    wireBytes: (size) => 4 * Math.ceil(size / 3),
    close() {
      pub.close();
      sub.close();
    },
  };
}

function ioredisBinary(url: string): Transport {
  const pub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: null });
  const sub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: null });
  for (const c of [pub, sub]) c.on("error", () => undefined);
  return {
    name: "ioredis, binary",
    async subscribe(onBatch) {
      sub.on("messageBuffer", (_channel: Buffer, message: Buffer) => onBatch(message));
      await sub.subscribe(CHANNEL);
    },
    publish(bytes) {
      return pub.publish(CHANNEL, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).catch(failed);
    },
    wireBytes: (size) => size,
    close() {
      pub.disconnect();
      sub.disconnect();
    },
  };
}

async function throughput(transport: Transport, size: number): Promise<{ perSecond: number; cpuUsPerBatch: number; check: number }> {
  const batch = new Uint8Array(size);
  for (let i = 0; i < size; i++) batch[i] = (i * 131) & 0xff;
  let received = 0;
  let check = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  await transport.subscribe((bytes) => {
    check = (check + bytes[bytes.length - 1]! + bytes.length) | 0;
    if (++received === BATCHES) done();
  });
  await Bun.sleep(50);
  const cpu = process.cpuUsage();
  const started = performance.now();
  // A window of publishes in flight, as a node's relay has: a subscriber far behind is cut off by
  // Redis (client-output-buffer-limit pubsub), which a blast of unacknowledged publishes provokes.
  for (let i = 0; i < BATCHES; i += WINDOW) {
    await Promise.all(Array.from({ length: Math.min(WINDOW, BATCHES - i) }, () => transport.publish(batch)));
  }
  await Promise.race([all, Bun.sleep(20_000)]);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  if (received !== BATCHES) throw new Error(`${transport.name}: ${received} of ${BATCHES} batches arrived (${publishFailures} publishes failed)`);
  return { perSecond: BATCHES / seconds, cpuUsPerBatch: (used.user + used.system) / BATCHES, check };
}

/** The lease renewal of src/cluster/leases.ts: the cluster's most frequent script. */
const RENEW = `local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return holder`;

/** Sends one command through a client (the way src/cluster sends them: a name and string arguments). */
type Send = (command: string, args: string[]) => Promise<unknown>;

const clients: { name: string; open(url: string): { send: Send; close(): void } }[] = [
  {
    name: "Bun.redis",
    open(url) {
      const client = new RedisClient(url, { autoReconnect: true });
      return { send: (command, args) => client.send(command, args), close: () => client.close() };
    },
  },
  {
    name: "ioredis",
    open(url) {
      const client = new Redis(url, { maxRetriesPerRequest: null });
      client.on("error", () => undefined);
      return { send: (command, args) => client.call(command, ...args), close: () => client.disconnect() };
    },
  },
];

/** COMMANDS commands (renewals, GETs and SETs in turn), WINDOW in flight: commands a second and CPU µs each. */
async function commands(send: Send): Promise<{ perSecond: number; cpuUsPerCommand: number }> {
  const one = (i: number): Promise<unknown> => {
    const key = `bench:lease:${i % 100}`;
    if (i % 3 === 0) return send("EVAL", [RENEW, "1", key, "node-a", "5000"]);
    if (i % 3 === 1) return send("GET", [key]);
    return send("SET", [`bench:status:${i % 100}`, "in the world", "PX", "60000"]);
  };
  for (let i = 0; i < 1000; i += WINDOW) await Promise.all(Array.from({ length: WINDOW }, (_, j) => one(i + j)));
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < COMMANDS; i += WINDOW) await Promise.all(Array.from({ length: Math.min(WINDOW, COMMANDS - i) }, (_, j) => one(i + j)));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { perSecond: COMMANDS / seconds, cpuUsPerCommand: (used.user + used.system) / COMMANDS };
}

/** True when a batch published after Redis restarted reaches the subscriber within 10 s. */
async function survivesRestart(redis: TestRedis, make: (url: string) => Transport): Promise<string> {
  const transport = make(redis.url);
  let got = 0;
  await transport.subscribe(() => got++);
  await redis.kill();
  await Bun.sleep(500);
  await redis.startServer();
  const deadline = performance.now() + 10_000;
  while (got === 0 && performance.now() < deadline) {
    void transport.publish(new Uint8Array([1, 2, 3]));
    await Bun.sleep(200);
  }
  transport.close();
  return got > 0 ? `yes (after ${((10_000 - (deadline - performance.now())) / 1000).toFixed(1)} s)` : "no: the subscription was lost";
}

const why = redisUnavailable();
if (why) {
  console.error(`bench:relay needs redis-server: ${why}`);
  process.exit(1);
}
const redis = await TestRedis.start();
try {
  console.log(`${BATCHES} batches per size, publisher and subscriber in this process, redis-server on 127.0.0.1:${redis.port}\n`);
  console.log("| transport | batch bytes | batches/s | MB/s of payload | CPU µs per batch | bytes per batch on the wire |");
  console.log("|---|---|---|---|---|---|");
  const rows: { transport: string; size: number; perSecond: number; cpuUsPerBatch: number }[] = [];
  for (const size of SIZES) {
    for (const make of [bunBase64, ioredisBinary]) {
      const transport = make(redis.url);
      const { perSecond, cpuUsPerBatch } = await throughput(transport, size);
      transport.close();
      rows.push({ transport: transport.name, size, perSecond, cpuUsPerBatch });
      console.log(
        `| ${transport.name} | ${size} | ${Math.round(perSecond).toLocaleString("en")} | ${((perSecond * size) / 1e6).toFixed(1)} | ${cpuUsPerBatch.toFixed(1)} | ${transport.wireBytes(size)} |`,
      );
    }
  }
  console.log("\nA publish after Redis is killed and restarted reaches the subscriber by itself:");
  const restarts: Record<string, string> = {};
  for (const [name, make] of [["Bun.redis + base64", bunBase64], ["ioredis, binary", ioredisBinary]] as const) {
    restarts[name] = await survivesRestart(redis, make);
    console.log(`- ${name}: ${restarts[name]}`);
  }
  console.log(`\nKeys and scripts: ${COMMANDS} commands (a lease renewal by EVAL, a GET, a SET with PX, in turn), ${WINDOW} in flight, 3 rounds alternating:`);
  console.log("| client | commands/s (median) | CPU µs per command (median) |");
  console.log("|---|---|---|");
  const commandRuns: Record<string, { perSecond: number; cpuUsPerCommand: number }[]> = {};
  for (let round = 0; round < 3; round++) {
    for (const client of clients) {
      const opened = client.open(redis.url);
      (commandRuns[client.name] ??= []).push(await commands(opened.send));
      opened.close();
    }
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const commandRows = Object.entries(commandRuns).map(([client, runs]) => ({ client, perSecond: median(runs.map((r) => r.perSecond)), cpuUsPerCommand: median(runs.map((r) => r.cpuUsPerCommand)) }));
  for (const row of commandRows) console.log(`| ${row.client} | ${Math.round(row.perSecond).toLocaleString("en")} | ${row.cpuUsPerCommand.toFixed(2)} |`);
  printRecord("bench:relay", { rows, restarts, commands: commandRows });
} finally {
  await redis.destroy();
}
process.exit(0);
