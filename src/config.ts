// Every option of the server in one place: its flag, environment variable, default and validation.
// Precedence: command-line flag > environment variable > default.
import { parseArgs } from "node:util";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./log.ts";

export class ConfigError extends Error {}

interface OptionSpec<T> {
  /** The long flag, without its dashes. */
  flag: string;
  env: string;
  default: T;
  /** The value's shape in the help text, e.g. `PORT`. */
  arg: string;
  help: string;
  parse(raw: string): T;
}

function integer(min: number, max: number) {
  return (raw: string): number => {
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`expected an integer, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new ConfigError(`expected an integer from ${min} to ${max}, got ${n}`);
    return n;
  };
}

function oneOf<T extends string>(values: readonly T[]) {
  return (raw: string): T => {
    const v = raw.trim().toLowerCase() as T;
    if (!values.includes(v)) throw new ConfigError(`expected one of ${values.join(", ")}, got "${raw}"`);
    return v;
  };
}

function text(raw: string): string {
  return raw.trim();
}

function list(raw: string): string[] {
  return raw
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function option<T>(spec: OptionSpec<T>): OptionSpec<T> {
  return spec;
}

export const OPTIONS = {
  port: option({
    flag: "port",
    env: "PORT",
    default: 8080,
    arg: "PORT",
    help: "TCP port to listen on; 0 picks a free port (the log says which)",
    parse: integer(0, 65535),
  }),
  host: option({
    flag: "host",
    env: "MMO_HOST",
    default: "0.0.0.0",
    arg: "ADDR",
    help: "address to listen on (0.0.0.0: every interface)",
    parse: (raw: string) => {
      const host = text(raw);
      if (host === "") throw new ConfigError("expected an address, got an empty value");
      return host;
    },
  }),
  dataDir: option({
    flag: "data-dir",
    env: "DATA_PATH",
    default: "data",
    arg: "DIR",
    help: "folder of the database (db.sqlite), created when missing",
    parse: (raw: string) => {
      const dir = text(raw);
      if (dir === "") throw new ConfigError("expected a folder, got an empty value");
      return dir;
    },
  }),
  seed: option({
    flag: "seed",
    env: "MMO_SEED",
    default: 0,
    arg: "N",
    help: "seed of the world's random source, to replay a world exactly (0: a random seed, logged at start)",
    parse: integer(0, 2 ** 32 - 1),
  }),
  logLevel: option<LogLevel>({
    flag: "log-level",
    env: "MMO_LOG_LEVEL",
    default: "info",
    arg: "LEVEL",
    help: `least severe log lines printed: ${LOG_LEVELS.join(", ")}`,
    parse: oneOf(LOG_LEVELS),
  }),
  logFormat: option<LogFormat>({
    flag: "log-format",
    env: "MMO_LOG_FORMAT",
    default: "text",
    arg: "FORMAT",
    help: "text (the series' lines) or json (one object a line)",
    parse: oneOf(LOG_FORMATS),
  }),
  maxPayload: option({
    flag: "max-payload",
    env: "MMO_MAX_PAYLOAD",
    default: 32 * 1024,
    arg: "BYTES",
    help: "largest frame a client may send; a larger one closes the connection with 1009",
    parse: integer(64, 16 * 1024 * 1024),
  }),
  maxMalformed: option({
    flag: "max-malformed",
    env: "MMO_MAX_MALFORMED",
    default: 20,
    arg: "N",
    help: "malformed frames a client may send in 10 s (each is dropped); one more closes it with 1008",
    parse: integer(0, 1_000_000),
  }),
  rateLimit: option({
    flag: "rate-limit",
    env: "MMO_RATE_LIMIT",
    default: 100,
    arg: "MSGS",
    help: "messages per second a client may send (token bucket); more are dropped",
    parse: integer(1, 1_000_000),
  }),
  rateBurst: option({
    flag: "rate-burst",
    env: "MMO_RATE_BURST",
    default: 200,
    arg: "MSGS",
    help: "messages a client may send at once above --rate-limit",
    parse: integer(1, 1_000_000),
  }),
  floodLimit: option({
    flag: "flood-limit",
    env: "MMO_FLOOD_LIMIT",
    default: 500,
    arg: "N",
    help: "messages over the rate limit a client may send in 10 s; one more closes it with 1008",
    parse: integer(0, 100_000_000),
  }),
  backpressureLimit: option({
    flag: "backpressure-limit",
    env: "MMO_BACKPRESSURE_LIMIT",
    default: 1024 * 1024,
    arg: "BYTES",
    help: "bytes queued for one slow client; packets past it are dropped for that client",
    parse: integer(1024, 1024 * 1024 * 1024),
  }),
  slowReaderGrace: option({
    flag: "slow-reader-grace",
    env: "MMO_SLOW_READER_GRACE",
    default: 10,
    arg: "SECONDS",
    help: "how long a client may stay backed up (half its backpressure limit queued) before it is closed with 1013",
    parse: integer(1, 3600),
  }),
  idleTimeout: option({
    flag: "idle-timeout",
    env: "MMO_IDLE_TIMEOUT",
    default: 60,
    arg: "SECONDS",
    help: "a WebSocket that sends nothing, not even a pong to the server's pings, for this long is closed",
    parse: integer(8, 960),
  }),
  maxClients: option({
    flag: "max-clients",
    env: "MMO_MAX_CLIENTS",
    default: 10_000,
    arg: "N",
    help: "connections at once; past it the upgrade is refused with 503 (0: no limit)",
    parse: integer(0, 10_000_000),
  }),
  maxClientsPerIp: option({
    flag: "max-clients-per-ip",
    env: "MMO_MAX_CLIENTS_PER_IP",
    default: 0,
    arg: "N",
    help: "connections at once from one IP address; past it the upgrade is refused with 429 (0: no limit)",
    parse: integer(0, 10_000_000),
  }),
  allowedOrigins: option<string[]>({
    flag: "allowed-origins",
    env: "MMO_ALLOWED_ORIGINS",
    default: [],
    arg: "LIST",
    help: "comma-separated Origins browsers may connect from (empty: any); requests without Origin (native Godot) always pass",
    parse: list,
  }),
};

type Options = typeof OPTIONS;
export type Config = { -readonly [K in keyof Options]: Options[K]["default"] };
export type ConfigKey = keyof Config;

export type ParsedCommandLine =
  | { kind: "run"; config: Config }
  | { kind: "help" }
  | { kind: "version" };

const keys = Object.keys(OPTIONS) as ConfigKey[];

/** The configuration made of the defaults alone, overridden by `overrides` (for tests and embedding). */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  const config = Object.fromEntries(keys.map((k) => [k, OPTIONS[k].default])) as Config;
  return { ...config, ...overrides };
}

function parseValue(key: ConfigKey, raw: string, source: string): unknown {
  try {
    return OPTIONS[key].parse(raw);
  } catch (err) {
    const why = err instanceof ConfigError ? err.message : String(err);
    throw new ConfigError(`invalid ${source}: ${why}`);
  }
}

export function parseCommandLine(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): ParsedCommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
        ...Object.fromEntries(keys.map((k) => [OPTIONS[k].flag, { type: "string" as const }])),
      },
    });
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };

  const config = defaultConfig() as Record<ConfigKey, unknown>;
  for (const key of keys) {
    const spec = OPTIONS[key];
    const fromFlag = values[spec.flag];
    const fromEnv = env[spec.env];
    if (typeof fromFlag === "string") config[key] = parseValue(key, fromFlag, `--${spec.flag}`);
    else if (fromEnv !== undefined && fromEnv !== "") config[key] = parseValue(key, fromEnv, spec.env);
  }
  return { kind: "run", config: config as Config };
}

export function usage(): string {
  const rows = keys.map((k) => {
    const spec = OPTIONS[k];
    return [`--${spec.flag} ${spec.arg}`, `${spec.help} (default ${JSON.stringify(spec.default)}, env ${spec.env})`];
  });
  rows.push(["-h, --help", "print this help and exit"], ["-v, --version", "print the version and exit"]);
  const width = Math.max(...rows.map(([flag]) => flag!.length));
  return [
    "Usage: mmo-server [options]",
    "",
    "A WebSocket game server for Godot 4 clients of the \"Godot 4 + Golang MMO\" series.",
    "Clients connect to ws://HOST:PORT/ws.",
    "",
    "Options:",
    ...rows.map(([flag, help]) => `  ${flag!.padEnd(width)}  ${help}`),
  ].join("\n");
}
