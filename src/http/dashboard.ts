// GET /dashboard: a page built into the binary; GET /dashboard/events: server-sent events with a
// snapshot twice a second. One timer serves every open dashboard, and runs only while one is open.
import type { Hub } from "../hub/hub.ts";
import type { Stats } from "../hub/stats.ts";
import type { DashboardView } from "../rooms/game.ts";
import dashboardHtml from "./dashboard.html" with { type: "text" };

// Imported as text (Bun's types describe .html imports as HTML bundles, for the other import kind).
const page = dashboardHtml as unknown as string;

const INTERVAL_MS = 500;

/** The framework's figures, and what the running game shows (its tiles and its players). */
export interface DashboardSnapshot extends DashboardView {
  clients: number;
  uptimeSeconds: number;
  messagesInPerSecond: number;
  packetsOutPerSecond: number;
  drops: number;
}

export class Dashboard {
  private readonly listeners = new Set<ReadableStreamDefaultController<Uint8Array>>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private last = { at: performance.now(), framesIn: 0, packetsOut: 0 };
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly hub: Hub,
    private readonly stats: Stats,
    private readonly startedAt: number,
    private readonly game: () => DashboardView,
  ) {}

  page(): Response {
    return new Response(page, { headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache" } });
  }

  events(): Response {
    let self: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        self = controller;
        this.listeners.add(controller);
        controller.enqueue(this.encoder.encode(`retry: 2000\ndata: ${JSON.stringify(this.snapshot())}\n\n`));
        this.timer ??= setInterval(() => this.push(), INTERVAL_MS);
      },
      cancel: () => this.drop(self),
    });
    return new Response(stream, { headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" } });
  }

  close(): void {
    for (const controller of this.listeners) {
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

  private push(): void {
    const bytes = this.encoder.encode(`data: ${JSON.stringify(this.snapshot())}\n\n`);
    for (const controller of this.listeners) {
      try {
        controller.enqueue(bytes);
      } catch {
        this.drop(controller);
      }
    }
  }

  private drop(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.listeners.delete(controller);
    if (this.listeners.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
