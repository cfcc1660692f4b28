// GET /dashboard: a page built into the binary; GET /dashboard/events: server-sent events with a
// snapshot twice a second. One timer serves every open dashboard, and runs only while one is open.
// A stream whose reader stops is closed once a few snapshots wait for it (the socket's buffers are
// full), and every stream ends after a few minutes (the browser reconnects by itself), so none stays
// open, holding memory, for long after its reader has gone.
import type { Server } from "bun";
import type { Hub } from "../hub/hub.ts";
import type { Stats } from "../hub/stats.ts";
import type { Logger } from "../log.ts";
import type { DashboardView } from "../rooms/game.ts";
import dashboardHtml from "./dashboard.html" with { type: "text" };

// Imported as text (Bun's types describe .html imports as HTML bundles, for the other import kind).
const page = dashboardHtml as unknown as string;

const INTERVAL_MS = 500;
/** Snapshots that may wait for a reader (the socket's buffers full) before its stream is closed. */
const MAX_BEHIND = 4;
/** How long a stream lasts; EventSource reconnects after `retry` (2 s). */
const MAX_STREAM_AGE_MS = 5 * 60_000;

interface Listener {
  controller: ReadableStreamDefaultController<Uint8Array>;
  request: Request;
  openedAt: number;
}

/** The framework's figures, and what the running game shows (its tiles and its players). */
export interface DashboardSnapshot extends DashboardView {
  clients: number;
  uptimeSeconds: number;
  messagesInPerSecond: number;
  packetsOutPerSecond: number;
  drops: number;
}

export class Dashboard {
  private readonly listeners = new Set<Listener>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private last = { at: performance.now(), framesIn: 0, packetsOut: 0 };
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly hub: Hub,
    private readonly stats: Stats,
    private readonly startedAt: number,
    private readonly game: () => DashboardView,
    private readonly log: Logger,
  ) {}

  page(): Response {
    return new Response(page, { headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache" } });
  }

  events(request: Request, server: Server<unknown>): Response {
    let self: Listener;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        self = { controller, request, openedAt: performance.now() };
        this.listeners.add(self);
        controller.enqueue(this.encoder.encode(`retry: 2000\ndata: ${JSON.stringify(this.snapshot())}\n\n`));
        this.timer ??= setInterval(() => this.push(server), INTERVAL_MS);
      },
      cancel: () => this.drop(self),
    });
    return new Response(stream, { headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" } });
  }

  close(): void {
    for (const { controller } of this.listeners) {
      try {
        controller.close();
      } catch {
        // already closed by the browser
      }
    }
    this.listeners.clear();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  snapshot(): DashboardSnapshot {
    const now = performance.now();
    const seconds = Math.max(0.001, (now - this.last.at) / 1000);
    const snapshot: DashboardSnapshot = {
      ...this.game(),
      clients: this.hub.size,
      uptimeSeconds: Math.round((now - this.startedAt) / 1000),
      messagesInPerSecond: (this.stats.framesIn - this.last.framesIn) / seconds,
      packetsOutPerSecond: (this.stats.packetsOut - this.last.packetsOut) / seconds,
      drops: this.stats.malformedDropped + this.stats.rateDropped + this.stats.sendDropped,
    };
    this.last = { at: now, framesIn: this.stats.framesIn, packetsOut: this.stats.packetsOut };
    return snapshot;
  }

  private push(server: Server<unknown>): void {
    const bytes = this.encoder.encode(`data: ${JSON.stringify(this.snapshot())}\n\n`);
    const now = performance.now();
    for (const listener of this.listeners) {
      const { controller } = listener;
      try {
        if ((controller.desiredSize ?? 0) < -MAX_BEHIND) {
          // Bun has stopped taking snapshots from the stream: the socket's buffers are full. Ending the
          // stream alone would wait for them to drain; a 1 s idle timeout closes the connection.
          this.log.warn(`Closed a dashboard stream that stopped reading (${1 - controller.desiredSize!} snapshots waiting)`);
          this.drop(listener);
          server.timeout(listener.request, 1);
          controller.close();
        } else if (now - listener.openedAt > MAX_STREAM_AGE_MS) {
          this.drop(listener);
          controller.close();
        } else {
          controller.enqueue(bytes);
        }
      } catch {
        this.drop(listener);
      }
    }
  }

  private drop(listener: Listener): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
