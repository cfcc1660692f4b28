// The HTTP routes table: the game's WebSocket, health, metrics, the dashboard, and the HTML5 export
// (or 404) for every other path.
import type { Server } from "bun";
import type { ClientFiles } from "../http/client-files.ts";
import type { Dashboard } from "../http/dashboard.ts";
import type { Metrics } from "../http/metrics.ts";
import type { Stats } from "../hub/stats.ts";
import type { SocketData } from "../hub/websocket-client.ts";
import { withHeld, type LogThrottle, type Logger } from "../log.ts";
import { timingSafeEqual } from "node:crypto";
import type { Admission } from "./admission.ts";
import { addressBudget, isLoopback } from "../addresses.ts";
import { forwarded, type ProxyTrust } from "./client-address.ts";

export interface RouteDeps {
  admission: Admission;
  proxies: ProxyTrust;
  /**
   * --admin-token: "" lets only a request from a loopback socket that names no forwarding hop read
   * /metrics and /dashboard (a proxy on the same host forwards everyone's requests from loopback).
   */
  adminToken: string;
  /** Served over TLS: the admin cookie is Secure. */
  tls: boolean;
  /** Refused requests are answered every time but logged at most once a second (with a count), so that a flood of them cannot flood the log. */
  refusals: LogThrottle;
  stats: Stats;
  log: Logger;
  metrics: Metrics;
  dashboard: Dashboard;
  clientFiles: ClientFiles | undefined;
  /** /healthz: the body, and whether the server is stopping (503). */
  health(): { body: Record<string, unknown>; stopping: boolean };
  /** The admin API's paths (src/http/admin.ts), behind the admin token. */
  admin: Record<string, (req: Request) => Promise<Response>>;
}

type Route = (req: Request, server: Server<SocketData>) => Response | Promise<Response> | undefined;

export function routes(deps: RouteDeps): Record<string, Route> {
  return {
    "/ws": (req, server) => upgrade(deps, req, server),
    "/healthz": () => {
      const { body, stopping } = deps.health();
      return Response.json(body, { status: stopping ? 503 : 200 });
    },
    "/metrics": (req, server) => guarded(deps, req, server, () => deps.metrics.response()),
    "/dashboard": (req, server) => guarded(deps, req, server, () => deps.dashboard.page()),
    "/dashboard/events": (req, server) => guarded(deps, req, server, () => deps.dashboard.events(req, server)),
    // The admin API, also under /dashboard/ for the dashboard's own controls (its cookie's path).
    ...Object.fromEntries(
      Object.entries(deps.admin).flatMap(([path, answer]): [string, Route][] => {
        const route: Route = (req, server) => guarded(deps, req, server, () => answer(req));
        return [
          [path, route],
          [`/dashboard${path}`, route],
        ];
      }),
    ),
  };
}

const ADMIN_COOKIE = "mmo_admin";

/** What operators read: with --admin-token, for whoever shows the token; without, for loopback clients. */
function guarded(deps: RouteDeps, req: Request, server: Server<SocketData>, serve: () => Response | Promise<Response>): Response | Promise<Response> {
  const { pathname, searchParams } = new URL(req.url);
  if (!deps.adminToken) {
    // The socket's own peer, and no forwarding header at all: a proxy on this host is not an operator.
    const peer = server.requestIP(req)?.address ?? "";
    if (isLoopback(peer) && !forwarded(req.headers)) return serve();
    const client = deps.proxies.clientAddress(peer, req.headers);
    const held = deps.refusals.take();
    if (held >= 0) deps.log.info(withHeld(`Refused ${pathname} to ${client}: without --admin-token it answers a loopback socket that names no forwarding hop only`, held));
    return new Response(`Forbidden: ${pathname} answers direct loopback requests only; start the server with --admin-token TOKEN to read it from elsewhere or through a proxy (Authorization: Bearer TOKEN)\n`, { status: 403 });
  }
  const bearer = req.headers.get("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
  const cookie = req.headers.get("cookie")?.match(new RegExp(`(?:^|;\\s*)${ADMIN_COOKIE}=([^;]+)`))?.[1];
  if (sameToken(bearer, deps.adminToken) || sameToken(cookie && decodedCookie(cookie), deps.adminToken)) return serve();
  // The dashboard takes the token once in its address, keeps it in a cookie, and drops it from the address.
  if (pathname === "/dashboard" && sameToken(searchParams.get("token") ?? undefined, deps.adminToken)) {
    return new Response(null, {
      status: 303,
      headers: { Location: "/dashboard", "Set-Cookie": `${ADMIN_COOKIE}=${encodeURIComponent(deps.adminToken)}; Path=/dashboard; HttpOnly; SameSite=Strict${deps.tls ? "; Secure" : ""}` },
    });
  }
  return new Response(`Unauthorized: ${pathname} needs Authorization: Bearer TOKEN (the --admin-token)\n`, { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="mmo-server"' } });
}

/** A cookie's value, or undefined when it is not valid percent-encoding (a 401, never a 500). */
function decodedCookie(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Any other path: a file of the HTML5 export, or 404. */
export function fallback(deps: RouteDeps, req: Request): Response | Promise<Response> {
  const { pathname } = new URL(req.url);
  return deps.clientFiles ? deps.clientFiles.serve(req, pathname) : new Response("Not found\n", { status: 404 });
}

function upgrade({ admission, proxies, stats, log, refusals }: RouteDeps, req: Request, server: Server<SocketData>): Response | undefined {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("This endpoint speaks WebSocket only: connect with a WebSocket client to ws://HOST:PORT/ws\n", { status: 400 });
  }
  const peer = server.requestIP(req);
  const ip = proxies.clientAddress(peer?.address ?? "unknown", req.headers);
  const budget = addressBudget(ip);
  const refusal = admission.admit(budget, req.headers.get("origin"));
  if (refusal) {
    stats.refuse(refusal.cause);
    const held = refusals.take();
    if (held >= 0) log.warn(withHeld(`Refused a connection from ${ip}: ${refusal.message}`, held));
    return new Response(refusal.message + "\n", { status: refusal.status });
  }
  if (server.upgrade(req, { data: { ip, budget, port: peer?.port ?? 0 } })) return undefined;
  admission.release(budget);
  return new Response("WebSocket upgrade failed: send a valid WebSocket handshake\n", { status: 400 });
}
