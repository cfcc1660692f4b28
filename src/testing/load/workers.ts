// The worker side of the load generator: the protocol between a worker process and its coordinator
// (JSON lines: ready, progress, result on stdout; "go <wall ms>" and "stop" on stdin), and opening
// many connections at once.
import { firstVarint, peek } from "../wire.ts";

/** Wall-clock ms with sub-ms precision, comparable across processes on one machine. */
export const wallMs = () => performance.timeOrigin + performance.now();
export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export type WorkerMessage = { type: "ready"; connectErrors: number } | { type: "progress"; done: number } | { type: "result"; result: Record<string, unknown> };

export function say(message: WorkerMessage): void {
  process.stdout.write(JSON.stringify(message) + "\n");
}

/** Lines from the coordinator on stdin: "go <wall ms>" or "stop". */
export async function* commands(): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of Bun.stdin.stream()) {
    buffered += new TextDecoder().decode(chunk);
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    yield* lines;
  }
}

export interface Conn {
  ws: WebSocket;
  id: number;
  /** Which of the urls it connected to (the node of a cluster). */
  node: number;
}

/**
 * Opens `count` connections, at most `parallel` at a time, spread evenly over `url` when it lists
 * several (the nodes of a cluster); each resolves on its id packet.
 */
export async function openMany(url: string | string[], count: number, onMessage: (conn: Conn, bytes: Uint8Array) => void, parallel = 200): Promise<{ conns: Conn[]; errors: number }> {
  const urls = typeof url === "string" ? [url] : url;
  let opened = 0;
  const conns: Conn[] = [];
  let errors = 0;
  let next = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const node = opened++ % urls.length;
      const ws = new WebSocket(urls[node]!);
      ws.binaryType = "nodebuffer";
      const conn: Conn = { ws, id: 0, node };
      const timer = setTimeout(() => {
        errors++;
        ws.close();
        resolve();
      }, 20_000);
      ws.onmessage = (ev) => {
        const bytes = ev.data as Uint8Array;
        if (conn.id === 0) {
          const p = peek(bytes);
          if (p?.kind === "id") {
            conn.id = firstVarint(bytes, p);
            conns.push(conn);
            clearTimeout(timer);
            resolve();
          }
          return;
        }
        onMessage(conn, bytes);
      };
      ws.onerror = () => {
        if (conn.id === 0) {
          errors++;
          clearTimeout(timer);
          resolve();
        }
      };
    });
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) {
        next++;
        await one();
      }
    }),
  );
  return { conns, errors };
}

