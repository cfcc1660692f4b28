// GET /metrics in the Prometheus text format (prom-client). The hot path only bumps plain counters in
// Stats; these metrics read them when scraped. A game adds its own through GameMetrics.
// The four classes one by one: the package's index also loads its push gateway (node:http, zlib) and
// its default metrics (OpenTelemetry's API), which cost every start about 30 ms and serve nothing here.
import Counter from "prom-client/lib/counter.js";
import Gauge from "prom-client/lib/gauge.js";
import Histogram from "prom-client/lib/histogram.js";
import Registry from "prom-client/lib/registry.js";
import type { Hub } from "../hub/hub.ts";
import type { Stats } from "../hub/stats.ts";
import type { GameMetrics } from "../rooms/game.ts";

/** A counter whose values are read from `read` at scrape time, one series per label value. */
function counterFrom(registry: Registry, name: string, help: string, label: string | undefined, read: () => Iterable<[string, number]> | number) {
  return new Counter({
    name,
    help,
    labelNames: label ? [label] : [],
    registers: [registry],
    collect() {
      this.reset();
      const values = read();
      if (typeof values === "number") this.inc(values);
      else for (const [value, n] of values) this.inc({ [label!]: value }, n);
    },
  });
}

/** A histogram kept as plain numbers by its owner: observations by bucket (the last past every bound), their sum and count. */
export interface HistogramCounts {
  readonly bounds: readonly number[];
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export class Metrics implements GameMetrics {
  readonly registry = new Registry();

  constructor(stats: Stats, hub: Hub) {
    const registry = this.registry;
    this.gauge("mmo_clients", "Connected WebSocket clients", () => hub.size);
    counterFrom(registry, "mmo_connections_total", "WebSocket connections opened", undefined, () => stats.connectionsOpened);
    counterFrom(registry, "mmo_frames_in_total", "Frames received from clients", undefined, () => stats.framesIn);
    counterFrom(registry, "mmo_bytes_in_total", "Bytes received from clients", undefined, () => stats.bytesIn);
    counterFrom(registry, "mmo_messages_in_total", "Valid packets received, by message kind", "kind", () => Object.entries(stats.messagesIn) as [string, number][]);
    counterFrom(registry, "mmo_messages_out_total", "Packets sent or published (a publish counts once), by message kind", "kind", () => Object.entries(stats.messagesOut) as [string, number][]);
    counterFrom(registry, "mmo_bytes_out_total", "Bytes of packets sent or published (a publish counts once)", undefined, () => stats.bytesOut);
    counterFrom(registry, "mmo_dropped_total", "Packets dropped, by cause", "cause", () => [
      ["malformed", stats.malformedDropped],
      ["rate_limit", stats.rateDropped],
      ["backpressure", stats.sendDropped],
    ]);
    counterFrom(registry, "mmo_spoofed_sender_ids_total", "Packets whose client-supplied sender_id was replaced", undefined, () => stats.spoofedSenderIds);
    counterFrom(registry, "mmo_handler_errors_total", "Packets dropped because a state handler failed", undefined, () => stats.handlerErrors);
    counterFrom(registry, "mmo_upgrades_refused_total", "WebSocket upgrades refused, by cause", "cause", () => stats.upgradesRefused);
    counterFrom(registry, "mmo_closes_total", "Connections closed, by close code (standard codes by name, the rest as other)", "code", () => [...stats.closeCodes]);
    counterFrom(registry, "mmo_logins_total", "Login attempts, by outcome", "outcome", () => Object.entries(stats.logins) as [string, number][]);
    counterFrom(registry, "mmo_registrations_total", "Registration attempts, by outcome", "outcome", () => Object.entries(stats.registrations) as [string, number][]);
  }

  /** A counter read when /metrics is scraped: one number, or one per value of `label`. */
  counter(name: string, help: string, read: () => Iterable<[string, number]> | number, label?: string): void {
    counterFrom(this.registry, name, help, label, read);
  }

  gauge(name: string, help: string, read: () => number): void {
    new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
  }

  histogram(name: string, help: string, buckets: number[]): { observe(value: number): void } {
    return new Histogram({ name, help, buckets, registers: [this.registry] });
  }

  /** A histogram whose counts are read when /metrics is scraped (its owner bumps plain numbers). */
  histogramFrom(name: string, help: string, read: () => HistogramCounts): void {
    const get = () => {
      const { bounds, counts, sum, count } = read();
      let cumulative = 0;
      const values = bounds.map((le, i) => ({ metricName: `${name}_bucket`, labels: { le }, value: (cumulative += counts[i]!) }));
      values.push({ metricName: `${name}_bucket`, labels: { le: "+Inf" as unknown as number }, value: count });
      return { name, help, type: "histogram", aggregator: "sum", values: [...values, { metricName: `${name}_sum`, labels: {}, value: sum }, { metricName: `${name}_count`, labels: {}, value: count }] };
    };
    this.registry.registerMetric({ name, help, get } as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  async response(): Promise<Response> {
    return new Response(await this.registry.metrics(), { headers: { "Content-Type": this.registry.contentType } });
  }
}
