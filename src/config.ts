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
