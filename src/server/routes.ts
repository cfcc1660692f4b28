// The HTTP routes table: the game's WebSocket, health, metrics, the dashboard, and the HTML5 export
// (or 404) for every other path.
import type { Server } from "bun";
import type { ClientFiles } from "../http/client-files.ts";
import type { Dashboard } from "../http/dashboard.ts";
import type { Metrics } from "../http/metrics.ts";
import type { Stats } from "../hub/stats.ts";
import type { SocketData } from "../hub/websocket-client.ts";
import type { Logger } from "../log.ts";
import type { Admission } from "./admission.ts";

export interface RouteDeps {
  admission: Admission;
  stats: Stats;
  log: Logger;
  metrics: Metrics;
  dashboard: Dashboard;
  clientFiles: ClientFiles | undefined;
  /** /healthz: the body, and whether the server is stopping (503). */
  health(): { body: Record<string, unknown>; stopping: boolean };
}

type Route = (req: Request, server: Server<SocketData>) => Response | Promise<Response> | undefined;

export function routes(deps: RouteDeps): Record<string, Route> {
  return {
    "/ws": (req, server) => upgrade(deps, req, server),
    "/healthz": () => {
      const { body, stopping } = deps.health();
      return Response.json(body, { status: stopping ? 503 : 200 });
    },
    "/metrics": () => deps.metrics.response(),
    "/dashboard": () => deps.dashboard.page(),
    "/dashboard/events": () => deps.dashboard.events(),
  };
}

/** Any other path: a file of the HTML5 export, or 404. */
export function fallback(deps: RouteDeps, req: Request): Response | Promise<Response> {
  const { pathname } = new URL(req.url);
  return deps.clientFiles ? deps.clientFiles.serve(req, pathname) : new Response("Not found\n", { status: 404 });
}

function upgrade({ admission, stats, log }: RouteDeps, req: Request, server: Server<SocketData>): Response | undefined {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("This endpoint speaks WebSocket only: connect with a WebSocket client to ws://HOST:PORT/ws\n", { status: 400 });
  }
  const peer = server.requestIP(req);
  const ip = peer?.address ?? "unknown";
  const refusal = admission.admit(ip, req.headers.get("origin"));
  if (refusal) {
    stats.refuse(refusal.cause);
    log.warn(`Refused a connection from ${ip}: ${refusal.message}`);
    return new Response(refusal.message + "\n", { status: refusal.status });
  }
  if (server.upgrade(req, { data: { ip, port: peer?.port ?? 0 } })) return undefined;
  admission.release(ip);
  return new Response("WebSocket upgrade failed: send a valid WebSocket handshake\n", { status: 400 });
}
