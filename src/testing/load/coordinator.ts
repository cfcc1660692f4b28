// The coordinator side of the load generator: starts worker processes (so the load uses every core),
// gathers their messages, shows progress, and splits a load between them.
import type { FileSink } from "bun";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readRssKiB } from "../server-process.ts";
import { readWaitMs } from "../../world/thread-clock.ts";
import { wallMs, type WorkerMessage } from "./workers.ts";

export interface ScenarioResult {
  scenario: string;
  [key: string]: unknown;
}

/** What a worker process is asked to do: a scenario's kind and its own options. */
export interface WorkerTask {
  kind: string;
  url: string;
}

export interface WorkerHandle {
  proc: ReturnType<typeof Bun.spawn>;
  messages: AsyncGenerator<WorkerMessage>;
  send(line: string): void;
}

export function startWorker<T extends WorkerTask>(task: T, onProgress: (done: number) => void): WorkerHandle {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "worker.ts"), JSON.stringify(task)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  // Read the worker's stdout eagerly, so that a full pipe never blocks it; messages wait in a queue.
  const queue: WorkerMessage[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  void (async () => {
    let buffered = "";
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      buffered += new TextDecoder().decode(chunk);
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        const message = JSON.parse(line) as WorkerMessage;
        if (message.type === "progress") onProgress(message.done);
        else queue.push(message);
      }
      wake?.();
    }
    ended = true;
    wake?.();
  })();
  async function* messages(): AsyncGenerator<WorkerMessage> {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  return {
    proc,
    messages: messages(),
    send(line: string) {
      (proc.stdin as FileSink).write(line + "\n");
      (proc.stdin as FileSink).flush();
    },
  };
}

export async function expectMessage(handle: WorkerHandle, type: WorkerMessage["type"]): Promise<WorkerMessage> {
  const { value, done } = await handle.messages.next();
  if (done || value.type !== type) throw new Error(`a load worker ended before sending "${type}"`);
  return value;
}

/** A progress line: a bar on a terminal, a line every few seconds otherwise. */
export function progressReporter(label: string, total: number): (done: number) => void {
  let last = 0;
  return (done: number) => {
    const now = performance.now();
    if (process.stderr.isTTY) {
      const width = 30;
      const filled = Math.round((Math.min(done, total) / total) * width);
      process.stderr.write(`\r${label} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${done}/${total}`);
    } else if (now - last > 2000) {
      last = now;
      process.stderr.write(`${label}: ${done}/${total}\n`);
    }
  };
}

export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

export async function allReady(workers: WorkerHandle[]): Promise<number> {
  let errors = 0;
  for (const w of workers) errors += ((await expectMessage(w, "ready")) as Extract<WorkerMessage, { type: "ready" }>).connectErrors;
  return errors;
}

export async function results(workers: WorkerHandle[]): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const w of workers) out.push(((await expectMessage(w, "result")) as Extract<WorkerMessage, { type: "result" }>).result);
  for (const w of workers) w.send("stop");
  await Promise.all(workers.map((w) => w.proc.exited));
  return out;
}

export const rss = (pid: number | undefined) => (pid ? readRssKiB(pid) : NaN);

/** CPU seconds (user and system) the process has used so far, from /proc; NaN where there is none. */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * How long a process's main thread (in Bun, its JavaScript thread) was runnable but waited for a CPU
 * so far, ms (Linux's /proc/PID/task/PID/schedstat; NaN elsewhere).
 */
export function mainThreadWaitedMs(pid: number | undefined): number {
  try {
    return readWaitMs(`/proc/${pid}/task/${pid}/schedstat`) ?? Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * Bots spread over `workers` processes, each given its share and a name prefix of its own (`task`):
 * started with a progress line, and, once every one has signed in, told to go at one moment.
 */
export async function startBots<T extends WorkerTask>(label: string, bots: number, duration: number, workers: number, task: (count: number, prefix: string) => T): Promise<{ handles: WorkerHandle[]; connectErrors: number }> {
  // Short: a bot's name (prefix, worker offset, index) must fit the 20 bytes a username may take.
  const prefix = `${label[0]}${Date.now().toString(36)}_`;
  const progress = progressReporter(label, duration);
  const counts = new Array<number>(workers).fill(0);
  let offset = 0;
  const handles = split(bots, workers).map((n, i) => {
    const handle = startWorker(task(n, `${prefix}${offset}_`), (done) => {
      counts[i] = done;
      progress(Math.min(...counts));
    });
    offset += n;
    return handle;
  });
  const connectErrors = await allReady(handles);
  const startAt = wallMs() + 500;
  for (const h of handles) h.send(`go ${startAt}`);
  return { handles, connectErrors };
}

