// The idle scenario: N connections that do nothing; the server's RSS before and after.
import { allReady, progressReporter, results, rss, split, startWorker, type ScenarioResult } from "./coordinator.ts";
import { commands, openMany, round, say } from "./workers.ts";

export interface IdleTask {
  kind: "idle";
  url: string;
  clients: number;
}

export async function idleWorker(task: IdleTask): Promise<void> {
  const { conns, errors } = await openMany(task.url, task.clients, () => {}, 500);
  say({ type: "ready", connectErrors: errors });
  const cmds = commands();
  await cmds.next();
  const stillOpen = conns.filter((c) => c.ws.readyState === WebSocket.OPEN).length;
  say({ type: "result", result: { connected: conns.length, stillOpen, connectErrors: errors } });
  for (const c of conns) c.ws.close();
}

export async function runIdle(url: string, pid: number | undefined, clients: number, workers = 2): Promise<ScenarioResult> {
  Bun.gc(true);
  await Bun.sleep(300);
  const before = rss(pid);
  const progress = progressReporter("idle", clients);
  const handles = split(clients, workers).map((n) => startWorker({ kind: "idle", url, clients: n } satisfies IdleTask, progress));
  const start = performance.now();
  const connectErrors = await allReady(handles);
  const connectSeconds = (performance.now() - start) / 1000;
  await Bun.sleep(1000);
  const after = rss(pid);
  for (const h of handles) h.send("stop");
  const parts = await results(handles);
  const connected = parts.reduce((a, r) => a + (r.connected as number), 0);
  return {
    scenario: "idle",
    clients,
    connected,
    stillOpen: parts.reduce((a, r) => a + (r.stillOpen as number), 0),
    connectErrors,
    connectSeconds: round(connectSeconds),
    serverRssKiBBefore: before,
    serverRssKiB: after,
    rssPerConnectionKiB: round((after - before) / Math.max(1, connected)),
  };
}
