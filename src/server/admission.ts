// Who may open a WebSocket: the origin allowlist, the server-wide cap and the per-IP cap.
import type { Config } from "../config.ts";

export interface Refusal {
  status: number;
  /** A short, stable name for logs and metrics. */
  cause: string;
  message: string;
}

export class Admission {
  private connections = 0;
  private readonly perIp = new Map<string, number>();
  private readonly origins: Set<string>;

  constructor(private readonly config: Pick<Config, "maxClients" | "maxClientsPerIp" | "allowedOrigins">) {
    this.origins = new Set(config.allowedOrigins.map(normalizeOrigin));
  }

  /** Checks a new connection; when it is admitted, it counts until `release` is called for it. */
  admit(ip: string, origin: string | null): Refusal | undefined {
    if (origin !== null && this.origins.size > 0 && !this.origins.has(normalizeOrigin(origin))) {
      return { status: 403, cause: "origin", message: `Origin ${origin} is not allowed to connect to this server` };
    }
    if (this.config.maxClients > 0 && this.connections >= this.config.maxClients) {
      return { status: 503, cause: "server_full", message: `Server full: ${this.config.maxClients} clients are connected, try again later` };
    }
    const fromIp = this.perIp.get(ip) ?? 0;
    if (this.config.maxClientsPerIp > 0 && fromIp >= this.config.maxClientsPerIp) {
      return { status: 429, cause: "ip_limit", message: `Too many connections from ${ip} (limit ${this.config.maxClientsPerIp} an address, an IPv6 /64 counting as one)` };
    }
    this.connections++;
    this.perIp.set(ip, fromIp + 1);
    return undefined;
  }

  release(ip: string): void {
    this.connections--;
    const left = (this.perIp.get(ip) ?? 1) - 1;
    if (left > 0) this.perIp.set(ip, left);
    else this.perIp.delete(ip);
  }
}

function normalizeOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, "");
}
