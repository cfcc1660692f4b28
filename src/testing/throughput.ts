// Operations a second and their latency, for the store benchmarks: the same operation from a number
// of loops at once for a while, and alone for its latency.
import { Histogram } from "./histogram.ts";

export interface Figure {
  perSecond: number;
  p50: number;
  p99: number;
}

/** Throughput with `concurrency` requests in flight; latency of a lone request (nothing else in flight). */
export async function measure(op: (i: number) => Promise<unknown>, seconds: number, concurrency: number): Promise<Figure> {
  const lone = await run(op, seconds, 1);
  const loaded = await run(op, seconds, concurrency);
  return { perSecond: loaded.perSecond, p50: lone.p50, p99: lone.p99 };
}

/** Runs `op` from `concurrency` loops for `seconds`; operations per second and latency percentiles (ms). */
export async function run(op: (i: number) => Promise<unknown>, seconds: number, concurrency: number): Promise<Figure> {
  for (let i = 0; i < 5; i++) await op(i); // warm up
  const latency = new Histogram();
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = worker; performance.now() < end; i += concurrency) {
        const t = performance.now();
        await op(i);
        latency.record(performance.now() - t);
        done++;
      }
    }),
  );
  return { perSecond: done / ((performance.now() - started) / 1000), p50: latency.percentile(0.5), p99: latency.percentile(0.99) };
}
