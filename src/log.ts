// Logging as the series prints it (`2006/01/02 15:04:05 Client 3: ...`), or one JSON object a line.
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "text" | "json";

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface LogSink {
  level: LogLevel;
  format: LogFormat;
  write(line: string): void;
}

const two = (n: number) => String(n).padStart(2, "0");

function goTimestamp(d: Date): string {
  return `${d.getFullYear()}/${two(d.getMonth() + 1)}/${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

export class Logger {
  constructor(
    private readonly sink: LogSink,
    private readonly prefix = "",
  ) {}

  /** A logger whose lines start with `prefix`, as the series' `Client 3: ` loggers. */
  child(prefix: string): Logger {
    return new Logger(this.sink, this.prefix + prefix);
  }

  enabled(level: LogLevel): boolean {
    return rank[level] >= rank[this.sink.level];
  }

  debug(msg: string): void {
    this.emit("debug", msg);
  }
  info(msg: string): void {
    this.emit("info", msg);
  }
  warn(msg: string): void {
    this.emit("warn", msg);
  }
  error(msg: string): void {
    this.emit("error", msg);
  }

  /** At info level, but printed whatever the level: the lines that tell where the server listens. */
  announce(msg: string): void {
    this.emit("info", msg, true);
  }

  private emit(level: LogLevel, msg: string, always = false): void {
    if (!always && !this.enabled(level)) return;
    const now = new Date();
    this.sink.write(
      this.sink.format === "json"
        ? JSON.stringify({ time: now.toISOString(), level, msg: this.prefix + msg })
        : `${goTimestamp(now)} ${level === "info" ? "" : `${level.toUpperCase()} `}${this.prefix}${msg}`,
    );
  }
}

export function createLogger(level: LogLevel, format: LogFormat): Logger {
  return new Logger({ level, format, write: (line) => process.stdout.write(line + "\n") });
}

/**
 * Lets a repeated log line through at most once per interval and counts what it held back, so that a
 * flood of bad frames costs a counter increment, not a line each.
 */
export class LogThrottle {
  private last = -Infinity;
  private held = 0;

  constructor(private readonly intervalMs: number) {}

  /** Returns how many lines were held back since the last one let through, or -1 to hold this one. */
  take(now = performance.now()): number {
    if (now - this.last < this.intervalMs) {
      this.held++;
      return -1;
    }
    this.last = now;
    const held = this.held;
    this.held = 0;
    return held;
  }
}

/** Appends " (N more since the last line)" when a throttle held lines back. */
export function withHeld(msg: string, held: number): string {
  return held > 0 ? `${msg} (${held} more since the last line)` : msg;
}

/** The message of an error, or the thrown value as text. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
