// Every option of the server in one place: its flag, environment variable (also its key in a config
// file), default and validation. Precedence: flag > environment variable > config file > default.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseRange } from "./addresses.ts";
import { maskUrl } from "./url.ts";
import { errorText, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./log.ts";

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
  /** How --print-config shows a value (to mask a password). */
  show?(value: T): string;
  /** A switch: the bare flag means "true" (its variable takes true/false, 1/0, yes/no). */
  switch?: true;
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

/** A URL with one of these schemes, or empty. */
function urlOf(schemes: string[]) {
  return (raw: string): string => {
    const url = text(raw);
    if (url === "") return url;
    const scheme = url.match(/^([a-z][a-z0-9+.-]*):/i)?.[1];
    if (!scheme || !schemes.includes(scheme.toLowerCase()) || !URL.canParse(url)) {
      throw new ConfigError(`expected a ${schemes.map((s) => `${s}://`).join(" or ")} URL, got ${scheme ? `a ${scheme}: URL` : "no URL"}`);
    }
    return url;
  };
}

function yesNo(raw: string): boolean {
  const value = text(raw).toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off"].includes(value)) return false;
  throw new ConfigError(`expected true or false, got "${raw}"`);
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
  cert: option({
    flag: "cert",
    env: "CERT_PATH",
    default: "",
    arg: "FILE",
    help: "TLS certificate (PEM); with --key, serves https and wss on the same port",
    parse: text,
  }),
  key: option({
    flag: "key",
    env: "KEY_PATH",
    default: "",
    arg: "FILE",
    help: "TLS private key (PEM) of --cert",
    parse: text,
  }),
  clientPath: option({
    flag: "client-path",
    env: "CLIENT_PATH",
    default: "",
    arg: "DIR",
    help: "a Godot HTML5 export to serve at / (with the headers threaded web builds need)",
    parse: text,
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
  databaseUrl: option({
    flag: "database-url",
    env: "DATABASE_URL",
    default: "",
    arg: "URL",
    help: "postgres://USER:PASSWORD@HOST:PORT/DB: keep accounts and hiscores in PostgreSQL (empty: SQLite in --data-dir)",
    parse: urlOf(["postgres", "postgresql"]),
    show: maskUrl,
  }),
  redisUrl: option({
    flag: "redis-url",
    env: "REDIS_URL",
    default: "",
    arg: "URL",
    help: "redis://[USER:PASSWORD@]HOST:PORT: make this process a node of a cluster on that Redis (empty: a server on its own)",
    parse: urlOf(["redis", "rediss"]),
    show: maskUrl,
  }),
  nodeName: option({
    flag: "node-name",
    env: "MMO_NODE_NAME",
    default: "",
    arg: "NAME",
    help: "this node's name in the cluster, unique among the live nodes (empty: HOSTNAME-PID-RANDOM)",
    parse: (raw: string) => {
      const name = text(raw);
      if (name !== "" && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) throw new ConfigError(`expected letters, digits, dots, dashes or underscores (at most 63), got "${raw}"`);
      return name;
    },
  }),
  reusePort: option({
    flag: "reuse-port",
    env: "MMO_REUSE_PORT",
    default: false,
    arg: "",
    help: "let several processes listen on the same port (SO_REUSEPORT, Linux): the kernel spreads connections over them",
    parse: yesNo,
    switch: true,
  }),
  game: option({
    flag: "game",
    env: "MMO_GAME",
    default: "radius-rumble",
    arg: "NAME",
    help: "the game to run (the games are listed below)",
    parse: (raw: string) => {
      const name = text(raw).toLowerCase();
      if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new ConfigError(`expected a game's name (letters, digits, dashes), got "${raw}"`);
      return name;
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
  worldSize: option({
    flag: "world-size",
    env: "MMO_WORLD_SIZE",
    default: 6000,
    arg: "UNITS",
    help: "side of the square a game's world spawns in (Radius Rumble: the series' 6000; spores grow with its area)",
    parse: integer(1000, 1_000_000),
  }),
  viewBudget: option({
    flag: "view-budget",
    env: "MMO_VIEW_BUDGET",
    default: 24_000,
    arg: "BYTES",
    help: "bytes a second of world frames per client (24,000: 1,200 a frame at 20 Hz, what a weak 3G link carries)",
    parse: integer(2_000, 10_000_000),
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
    help: "bytes queued for one slow client; a packet that would pass it closes the connection instead (never a silent drop)",
    parse: integer(1024, 1024 * 1024 * 1024),
  }),
  slowReaderGrace: option({
    flag: "slow-reader-grace",
    env: "MMO_SLOW_READER_GRACE",
    default: 10,
    arg: "SECONDS",
    help: "how long a client may stay backed up (half its backpressure limit queued) before it is closed with 1013, short of the limit",
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
  maxChatLength: option({
    flag: "max-chat-length",
    env: "MMO_MAX_CHAT_LENGTH",
    default: 500,
    arg: "CHARS",
    help: "the longest chat line, in characters; a longer one is refused with a deny, never relayed",
    parse: integer(1, 100_000),
  }),
  chatRate: option({
    flag: "chat-rate",
    env: "MMO_CHAT_RATE",
    default: 10,
    arg: "N",
    help: "chat lines a second one client may send (a burst of 5 times as many); past it each is refused with a deny",
    parse: integer(1, 10_000),
  }),
  maxFriends: option({
    flag: "max-friends",
    env: "MMO_MAX_FRIENDS",
    default: 500,
    arg: "N",
    help: "friends one account may have (requests past it are refused)",
    parse: integer(1, 100_000),
  }),
  maxPartySize: option({
    flag: "max-party-size",
    env: "MMO_MAX_PARTY_SIZE",
    default: 8,
    arg: "N",
    help: "members a party may have, its leader included",
    parse: integer(2, 1000),
  }),
  playersRate: option({
    flag: "players-rate",
    env: "MMO_PLAYERS_RATE",
    default: 5,
    arg: "N",
    help: "friend, party and channel requests a second one client may make (a burst of 4 times as many); past it each is refused",
    parse: integer(1, 1_000_000),
  }),
  maxClientsPerIp: option({
    flag: "max-clients-per-ip",
    env: "MMO_MAX_CLIENTS_PER_IP",
    default: 256,
    arg: "N",
    help: "connections at once from one IP address (an IPv6 /64 counts as one); past it the upgrade is refused with 429 (0: no limit, for load tests)",
    parse: integer(0, 10_000_000),
  }),
  minPasswordLength: option({
    flag: "min-password-length",
    env: "MMO_MIN_PASSWORD_LENGTH",
    default: 8,
    arg: "CHARS",
    help: "the shortest password a registration may choose (logins of older, shorter passwords still work)",
    parse: integer(1, 256),
  }),
  registerBurst: option({
    flag: "register-burst",
    env: "MMO_REGISTER_BURST",
    default: 60,
    arg: "N",
    help: "registrations one address may make at once (a classroom arriving); past it, --register-per-minute",
    parse: integer(1, 1_000_000),
  }),
  registerPerMinute: option({
    flag: "register-per-minute",
    env: "MMO_REGISTER_PER_MINUTE",
    default: 10,
    arg: "N",
    help: "registrations one address may make a minute once its burst is spent; more are refused, saying so",
    parse: integer(1, 1_000_000),
  }),
  resumeGrace: option({
    flag: "resume-grace",
    env: "MMO_RESUME_GRACE",
    default: 30,
    arg: "SECONDS",
    help: "how long the session of a client that asked for a resume token is held after its connection drops (0: no session resume)",
    parse: integer(0, 86_400),
  }),
  resumeBuffer: option({
    flag: "resume-buffer",
    env: "MMO_RESUME_BUFFER",
    default: 262_144,
    arg: "BYTES",
    help: "bytes of packets kept for a held session; past them the session ends (the client logs in again)",
    parse: integer(1024, 64 * 1024 * 1024),
  }),
  storageMaxValueBytes: option({
    flag: "storage-max-value-bytes",
    env: "MMO_STORAGE_MAX_VALUE_BYTES",
    default: 65_536,
    arg: "BYTES",
    help: "the largest value (as JSON) a game may store in one storage object; a larger one is refused, nothing stored",
    parse: integer(2, 16 * 1024 * 1024),
  }),
  storageMaxObjects: option({
    flag: "storage-max-objects",
    env: "MMO_STORAGE_MAX_OBJECTS",
    default: 1000,
    arg: "N",
    help: "storage objects one account may own; a write past it is refused (game-wide objects are not counted)",
    parse: integer(1, 100_000_000),
  }),
  storageMaxBytes: option({
    flag: "storage-max-bytes",
    env: "MMO_STORAGE_MAX_BYTES",
    default: 4 * 1024 * 1024,
    arg: "BYTES",
    help: "bytes of storage values one account may own; a write past it is refused (game-wide objects are not counted)",
    parse: integer(2, 1024 * 1024 * 1024 * 1024),
  }),
  trustProxy: option<string[]>({
    flag: "trust-proxy",
    env: "MMO_TRUST_PROXY",
    default: [],
    arg: "LIST",
    help: "comma-separated addresses or CIDR ranges of your reverse proxies; from them, the client's address is read from --proxy-header",
    parse: (raw: string) => {
      const ranges = list(raw);
      for (const range of ranges) {
        try {
          parseRange(range);
        } catch (err) {
          throw new ConfigError(errorText(err));
        }
      }
      return ranges;
    },
  }),
  proxyHeader: option({
    flag: "proxy-header",
    env: "MMO_PROXY_HEADER",
    default: "x-forwarded-for",
    arg: "NAME",
    help: "the one header your proxies name the client in (X-Forwarded-For, Forwarded, X-Real-IP...); every other is ignored",
    parse: (raw: string) => {
      const name = raw.trim().toLowerCase();
      if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) throw new ConfigError(`"${raw}" is not an HTTP header name`);
      return name;
    },
  }),
  adminToken: option({
    flag: "admin-token",
    env: "MMO_ADMIN_TOKEN",
    default: "",
    arg: "TOKEN",
    help: "with it, /metrics and /dashboard need Authorization: Bearer TOKEN (the dashboard also takes ?token= once); without it, they answer loopback clients only",
    parse: (raw: string) => {
      const token = text(raw);
      if (token !== "" && token.length < 16) throw new ConfigError("expected a token of at least 16 characters");
      return token;
    },
    show: (token: string) => (token ? "***" : ""),
  }),
  clusterSecret: option({
    flag: "cluster-secret",
    env: "MMO_CLUSTER_SECRET",
    default: "",
    arg: "SECRET",
    help: "the secret every node of a cluster signs its bus messages and snapshots with (at least 16 characters; the same on every node); a cluster refuses to start without it",
    parse: (raw: string) => {
      const secret = text(raw);
      if (secret !== "" && secret.length < 16) throw new ConfigError("expected a secret of at least 16 characters");
      return secret;
    },
    show: (secret: string) => (secret ? "***" : ""),
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

/** Where a value came from, for --print-config. */
export type ConfigSources = Record<ConfigKey, string>;

export type ParsedCommandLine =
  | {
      kind: "run";
      config: Config;
      sources: ConfigSources;
      warnings: string[];
      printConfig: boolean;
      /** `import-sqlite PATH`: copy that SQLite database's accounts into --database-url, instead of serving. */
      importFrom?: string;
    }
  | { kind: "help" }
  | { kind: "version" }
  /** `godot PATH`: write the Godot client kit into the project at PATH, instead of serving. */
  | { kind: "godot"; project: string };

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

/**
 * Reads a config file in the `.env` format of the series: `KEY=value` lines, `#` comments, optional
 * `export ` and quotes. Returns each key with its value and line number.
 */
export function parseEnvFile(text: string, path: string): Map<string, { value: string; line: number }> {
  const entries = new Map<string, { value: string; line: number }>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const m = line.match(/^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/);
    if (!m) throw new ConfigError(`${path}:${i + 1}: expected KEY=value, got "${line}"`);
    let value = m[2]!;
    const quoted = value.match(/^"((?:[^"\\]|\\.)*)"$/) ?? value.match(/^'([^']*)'$/);
    if (quoted) value = quoted[1]!.replace(/\\(["\\])/g, "$1");
    else value = value.replace(/\s+#.*$/, "").trim();
    entries.set(m[1]!, { value, line: i + 1 });
  });
  return entries;
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
      allowPositionals: true,
      options: {
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
        config: { type: "string" },
        "print-config": { type: "boolean" },
        ...Object.fromEntries(keys.map((k) => [OPTIONS[k].flag, { type: (OPTIONS[k] as OptionSpec<unknown>).switch ? ("boolean" as const) : ("string" as const) }])),
      },
    });
  } catch (err) {
    throw new ConfigError(errorText(err));
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const [command, ...commandArgs] = parsed.positionals;
  if (command === "godot") {
    if (commandArgs.length !== 1) throw new ConfigError("godot takes one argument: the folder of a Godot 4 project (with project.godot)");
    return { kind: "godot", project: commandArgs[0]! };
  }
  if (command !== undefined && command !== "import-sqlite") throw new ConfigError(`unknown command "${command}" (the commands are godot PATH and import-sqlite PATH)`);
  if (command === "import-sqlite" && commandArgs.length !== 1) throw new ConfigError("import-sqlite takes one argument: the SQLite file to import");

  const warnings: string[] = [];
  let file = new Map<string, { value: string; line: number }>();
  const configPath = typeof values.config === "string" ? values.config : env.MMO_CONFIG;
  if (configPath) {
    let text: string;
    try {
      text = readFileSync(configPath, "utf8");
    } catch (err) {
      throw new ConfigError(`cannot read the config file ${configPath}: ${errorText(err)}`);
    }
    file = parseEnvFile(text, configPath);
    const known = new Set(keys.map((k) => OPTIONS[k].env));
    for (const [key, { line }] of file) if (!known.has(key)) warnings.push(`${configPath}:${line}: unknown key ${key} is ignored`);
  }

  const config = defaultConfig() as Record<ConfigKey, unknown>;
  const sources = Object.fromEntries(keys.map((k) => [k, "default"])) as ConfigSources;
  for (const key of keys) {
    const spec = OPTIONS[key];
    const fromFlag = values[spec.flag];
    const fromEnv = env[spec.env];
    const fromFile = file.get(spec.env);
    if (typeof fromFlag === "string" || typeof fromFlag === "boolean") {
      config[key] = typeof fromFlag === "boolean" ? fromFlag : parseValue(key, fromFlag, `--${spec.flag}`);
      sources[key] = `flag --${spec.flag}`;
    } else if (fromEnv !== undefined && fromEnv !== "") {
      config[key] = parseValue(key, fromEnv, spec.env);
      sources[key] = `environment ${spec.env}`;
    } else if (fromFile !== undefined) {
      config[key] = parseValue(key, fromFile.value, `${spec.env} in ${configPath}:${fromFile.line}`);
      sources[key] = `${configPath}:${fromFile.line}`;
    }
  }
  const result = config as Config;
  if ((result.cert === "") !== (result.key === "")) {
    throw new ConfigError("TLS needs both --cert (CERT_PATH) and --key (KEY_PATH)");
  }
  if (command === "import-sqlite" && result.databaseUrl === "") throw new ConfigError("import-sqlite needs the PostgreSQL database to import into: --database-url URL (or DATABASE_URL)");
  return { kind: "run", config: result, sources, warnings, printConfig: values["print-config"] === true, importFrom: commandArgs[0] };
}

/** The effective configuration, one option a line, with where each value came from. */
export function describeConfig(config: Config, sources: ConfigSources): string {
  const width = Math.max(...keys.map((k) => OPTIONS[k].flag.length));
  return keys
    .map((k) => {
      const spec = OPTIONS[k] as OptionSpec<unknown>;
      return `${spec.flag.padEnd(width)}  ${JSON.stringify(spec.show ? spec.show(config[k]) : config[k])}  (${sources[k]})`;
    })
    .join("\n");
}

/** The help text; `games` lists the games `--game` may name, with a line each. */
export function usage(games: readonly { name: string; description: string }[] = []): string {
  const rows = keys.map((k) => {
    const spec = OPTIONS[k];
    return [`--${spec.flag}${spec.arg ? ` ${spec.arg}` : ""}`, `${spec.help} (default ${JSON.stringify(spec.default)}, env ${spec.env})`];
  });
  rows.push(
    ["--config FILE", "read options from a file in the .env format (KEY=value; keys are the env names above; env MMO_CONFIG)"],
    ["--print-config", "print the effective options and where each came from, then exit"],
    ["-h, --help", "print this help and exit"],
    ["-v, --version", "print the version and exit"],
  );
  const width = Math.max(...rows.map(([flag]) => flag!.length));
  return [
    "Usage: mmo-server [options]",
    "       mmo-server import-sqlite PATH --database-url URL   (copy a SQLite db's accounts into PostgreSQL)",
    "       mmo-server godot PATH                              (write the Godot client kit into the project at PATH)",
    "",
    "A WebSocket game server for Godot 4 clients of the \"Godot 4 + Golang MMO\" series.",
    "Clients connect to ws://HOST:PORT/ws.",
    "",
    "Options:",
    ...rows.map(([flag, help]) => `  ${flag!.padEnd(width)}  ${help}`),
    ...(games.length > 0 ? ["", "Games:", ...games.map((g) => `  ${g.name.padEnd(width)}  ${g.description}`)] : []),
  ].join("\n");
}
