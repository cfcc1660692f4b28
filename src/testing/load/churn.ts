// The churn scenario, the one both the load generator and the stress test run: connect/close cycles,
// every third without a close frame; counts the rate and any id handed out twice.
import { allReady, progressReporter, results, rss, split, startWorker, type ScenarioResult } from "./coordinator.ts";
import { commands, openMany, round, say } from "./workers.ts";

export interface ChurnTask {
  kind: "churn";
  url: string;
  cycles: number;
}

const PARALLEL = 25;

export async function churnWorker(task: ChurnTask): Promise<void> {
  say({ type: "ready", connectErrors: 0 });
  const cmds = commands();
  await cmds.next();
  let started = 0;
  let done = 0;
  let errors = 0;
  const ids: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (started < task.cycles) {
        started++;
        const { conns, errors: e } = await openMany(task.url, 1, () => {}, 1);
        errors += e;
        for (const c of conns) {
          ids.push(c.id);
          if (done % 3 === 0) (c.ws as WebSocket & { terminate(): void }).terminate();
          else c.ws.close();
          done++;
        }
        if (done % 100 === 0) say({ type: "progress", done });
      }
    }),
  );
  say({ type: "result", result: { cycles: done, connectErrors: errors, seconds: (performance.now() - start) / 1000, ids } });
}

/** Runs `cycles` cycles; ids already in `seen` (from earlier runs against the same server) count as repeated. */
export async function runChurn(url: string, pid: number | undefined, cycles: number, workers = 2, seen = new Set<number>()): Promise<ScenarioResult> {
  const progress = progressReporter("churn", cycles);
  const counts = new Array<number>(workers).fill(0);
  const handles = split(cycles, workers).map((n, i) =>
    startWorker({ kind: "churn", url, cycles: n } satisfies ChurnTask, (done) => {
      counts[i] = done;
      progress(counts.reduce((a, b) => a + b, 0));
    }),
  );
  await allReady(handles);
  for (const h of handles) h.send("go 0");
  const parts = await results(handles);
  const seconds = Math.max(...parts.map((r) => r.seconds as number));
  const done = parts.reduce((a, r) => a + (r.cycles as number), 0);
  let repeatedIds = 0;
  for (const id of parts.flatMap((r) => r.ids as number[])) {
    if (seen.has(id)) repeatedIds++;
    seen.add(id);
  }
  return {
    scenario: "churn",
    cycles: done,
    withoutCloseFrame: Math.ceil(done / 3),
    repeatedIds,
    connectErrors: parts.reduce((a, r) => a + (r.connectErrors as number), 0),
    seconds: round(seconds),
    cyclesPerSecond: Math.round(done / seconds),
    serverRssKiB: rss(pid),
  };
}
