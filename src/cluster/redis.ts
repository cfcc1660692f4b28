// The node's one Redis client, ioredis: its keys and scripts, and the bus's binary pub/sub (a second
// connection, as a subscriber must have). One reconnect policy and one "up" for both. Chosen by
// `bun run bench:relay` (docs/cluster.md): Bun's RedisClient costs less CPU a command, but its
// subscriber goes deaf after Redis restarts, and its publish takes strings only.
import Redis from "ioredis";

export type RedisConnection = Redis;

/** What the cluster's parts send: a command's name and its arguments, answered as Redis answers. */
export interface Commands {
  send(command: string, args: string[]): Promise<unknown>;
}

/**
 * The two connections of a node, not yet connected: `commands` (keys, scripts and publishes; a
 * command that gets no answer within `timeoutMs` fails, and none waits while Redis is away) and
 * `subscriber` (its subscriptions made again by itself when Redis is back). Both reconnect for as
 * long as the node runs, at most a second apart.
 */
export function redisConnections(url: string, timeoutMs: number): { commands: RedisConnection; subscriber: RedisConnection } {
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
    maxRetriesPerRequest: 1,
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
  };
  const commands = new Redis({ ...options, enableOfflineQueue: false, commandTimeout: timeoutMs });
  const subscriber = new Redis({ ...options, enableOfflineQueue: true });
  // Connection errors are the cluster's outage, logged once by it; ioredis would print each one.
  for (const connection of [commands, subscriber]) connection.on("error", () => undefined);
  return { commands, subscriber };
}

/** The cluster's parts' view of the commands connection. */
export function commandsOf(connection: RedisConnection): Commands {
  return { send: (command, args) => connection.call(command, ...args) };
}
