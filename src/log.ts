// Logging as the series prints it (`2006/01/02 15:04:05 Client 3: ...`), or one JSON object a line.
import { TokenBucket } from "./rate.ts";

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
    private readonly budget?: LineBudget,
  ) {}

  /**
   * A logger whose lines start with `prefix`, as the series' `Client 3: ` loggers; with a `budget`,
   * its lines past the budget are held back and counted (what one client may make the server write).
   */
  child(prefix: string, budget?: LineBudget): Logger {
    return new Logger(this.sink, this.prefix + prefix, budget ?? this.budget);
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
    if (this.budget) {
      const held = this.budget.take(performance.now());
      if (held < 0) return;
      if (held > 0) msg += ` (${held} more line(s) of this client held back)`;
    }
    const now = new Date();
    this.sink.write(
      this.sink.format === "json"
        ? JSON.stringify({ time: now.toISOString(), level, msg: this.prefix + msg })
        : `${goTimestamp(now)} ${level === "info" ? "" : `${level.toUpperCase()} `}${this.prefix}${msg}`,
    );
  }
}

/**
 * Standard output that never grows without bound: lines wait in a queue of at most `maxBytes` while
 * the reader of the output is slow; past that they are dropped, and a line says how many.
 */
export class BoundedOutput {
  private queue: string[] = [];
  private queued = 0;
  private dropped = 0;
  private pumping: Promise<void> | undefined;

  constructor(
    private readonly sink: { write(chunk: string): unknown; flush(): unknown } = Bun.stdout.writer(),
    private readonly maxBytes = 4 * 1024 * 1024,
  ) {}

  write(line: string): void {
    if (this.queued + line.length > this.maxBytes) {
      this.dropped++;
      return;
    }
    this.queue.push(line);
    this.queued += line.length;
    this.pumping ??= this.pump();
  }

  /** Resolves once everything queued has been written. */
  async drained(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0 || this.dropped > 0) {
        let chunk = this.dropped > 0 ? `${goTimestamp(new Date())} WARN ${this.dropped} log line(s) dropped: the log's reader did not keep up\n` : "";
        this.dropped = 0;
        chunk += this.queue.join("");
        this.queue = [];
        this.queued = 0;
        this.sink.write(chunk);
        await this.sink.flush();
      }
    } finally {
      this.pumping = undefined;
    }
  }
}

export const stdout = new BoundedOutput();

export function createLogger(level: LogLevel, format: LogFormat): Logger {
  return new Logger({ level, format, write: (line) => stdout.write(line + "\n") });
}

/**
 * A token bucket of log lines: `burst` at once, then `perSecond`. take() returns how many lines were
 * held back since the last one let through, or -1 to hold this one.
 */
export class LineBudget {
  private readonly bucket: TokenBucket;
  private held = 0;

  constructor(burst = 30, perSecond = 2) {
    this.bucket = new TokenBucket(perSecond, burst, performance.now());
  }

  take(now: number): number {
    if (!this.bucket.take(now)) {
      this.held++;
      return -1;
    }
    const held = this.held;
    this.held = 0;
    return held;
  }
}

const MAX_QUOTED = 48;

/**
 * Text a client wrote, fit for a log line: quoted, cut to 48 characters, and every control, format
 * or separator character escaped, so that it can neither forge a line nor fill the disk.
 */
export function quote(text: string, max = MAX_QUOTED): string {
  const chars = [...text];
  const cut = chars.length > max;
  const shown = JSON.stringify(cut ? chars.slice(0, max).join("") : text).replace(
    /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu,
    (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, "0")}`,
  );
  return cut ? `${shown}… (${chars.length} characters)` : shown;
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
