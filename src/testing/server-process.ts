// Starts mmo-server (the compiled binary, or the source with Bun) as a child process on a free
// loopback port, and reads its memory from /proc.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");

export interface ServerProcess {
  proc: ReturnType<typeof Bun.spawn>;
  port: number;
  url: string;
  /** Resident set size in KiB, from /proc/PID/status. */
  rssKiB(): number;
  /** Bytes the server has written to stdout (its log) so far. */
  stdoutBytes(): number;
  /** Its log's lines so far (the first 10,000: a benchmark's log is not kept whole). */
  lines: string[];
  stop(): Promise<number>;
}

const MAX_LINES = 10_000;

/** The command that runs mmo-server: ./mmo-server when built, else the source. */
export function serverCommand(binary = join(ROOT, "mmo-server")): string[] {
  return existsSync(binary) ? [binary] : [process.execPath, join(ROOT, "src", "main.ts")];
}

/** Starts the server on a free loopback port and resolves once its log says which port it got. */
export async function startServerProcess(command: string[], args: string[] = [], cwd?: string): Promise<ServerProcess> {
  // The environment as it is now (a suite may have set MMO_* variables since the start).
  const proc = Bun.spawn([...command, "--port", "0", "--host", "127.0.0.1", ...args], { cwd, env: { ...process.env }, stdout: "pipe", stderr: "inherit" });
  let written = 0;
  const lines: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    void (async () => {
      const decoder = new TextDecoder();
      let seen = "";
      let partial = "";
      let listening = false;
      // Reads to the end, so the server never writes to a closed pipe.
      for await (const chunk of proc.stdout) {
        written += chunk.length;
        if (lines.length < MAX_LINES) {
          const parts = (partial + decoder.decode(chunk, { stream: true })).split("\n");
          partial = parts.pop()!;
          lines.push(...parts.slice(0, MAX_LINES - lines.length));
        }
        if (listening) continue;
        seen = lines.join("\n") + partial;
        const m = seen.match(/Starting server on :(\d+)/);
        if (m) {
          listening = true;
          resolve(Number(m[1]));
        }
      }
      if (!listening) reject(new Error(`the server exited before listening:\n${seen}`));
    })();
  });
  return {
    proc,
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    rssKiB: () => readRssKiB(proc.pid),
    stdoutBytes: () => written,
    lines,
    async stop() {
      proc.kill("SIGTERM");
      return proc.exited;
    },
  };
}

export function readRssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = status.match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Number(m[1]) : NaN;
}

export async function healthz(port: number): Promise<{ clients: number; [key: string]: unknown }> {
  return (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { clients: number };
}
