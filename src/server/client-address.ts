// Whose request it is: the socket's peer, or, when the peer is a proxy we were told to trust
// (--trust-proxy), the client the proxy names in the one header the operator names (--proxy-header:
// X-Forwarded-For by default, its right-most untrusted hop). Every other forwarding header is
// ignored, as are all of them from anyone else: a client cannot pick its own address.
import { inRanges, parseIp, parseRange, type Range } from "../addresses.ts";

/** `::ffff:1.2.3.4` as `1.2.3.4`; anything else as it is. */
function plain(address: string): string {
  return address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
}

/** A hop as some proxies write it, with a port (`1.2.3.4:5678`, `[2001:db8::1]:443`): the address alone. */
function withoutPort(hop: string): string {
  const close = hop.indexOf("]");
  if (hop.startsWith("[") && close > 0) return hop.slice(1, close);
  const v4 = hop.match(/^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/);
  return v4 ? v4[1]! : hop;
}

/** Whether the request names any hop at all (X-Forwarded-For, Forwarded, X-Real-IP): it came through a proxy. */
export function forwarded(headers: Headers): boolean {
  return headers.has("x-forwarded-for") || headers.has("forwarded") || headers.has("x-real-ip");
}

/**
 * The hops a request names in `header`, nearest last: RFC 7239's `for=` when the header is
 * Forwarded, else a comma-separated list (X-Forwarded-For, X-Real-IP, CF-Connecting-IP...).
 */
function forwardedHops(headers: Headers, header: string): string[] {
  const text = headers.get(header);
  if (text === null) return [];
  if (header !== "forwarded") return text.split(",").map((hop) => withoutPort(hop.trim()));
  const hops: string[] = [];
  for (const element of text.split(",")) {
    const forPair = element.split(";").find((pair) => pair.trim().toLowerCase().startsWith("for="));
    if (!forPair) continue;
    let value = forPair.trim().slice(4).trim().replace(/^"(.*)"$/, "$1");
    value = value.startsWith("[") ? value.slice(1, value.indexOf("]")) : value.replace(/:\d+$/, "");
    hops.push(value);
  }
  return hops;
}

export class ProxyTrust {
  private readonly ranges: Range[];
  private readonly header: string;

  /**
   * `list`: addresses and CIDR ranges of trusted proxies (checked by config.ts; throws on a bad one);
   * `header`: the one header they name the client in.
   */
  constructor(list: readonly string[], header = "x-forwarded-for") {
    this.ranges = list.map(parseRange);
    this.header = header.toLowerCase();
  }

  /** The address of the client behind the request (peer: the socket's address). */
  clientAddress(peer: string, headers: Headers): string {
    if (this.ranges.length === 0) return plain(peer);
    let nearest = peer;
    const hops = [peer, ...forwardedHops(headers, this.header).reverse()];
    for (const hop of hops) {
      const ip = parseIp(hop);
      // A hop that is not an address (a proxy misconfigured, or forged text): stop at the last good one.
      if (ip === undefined) return plain(nearest);
      if (!inRanges(this.ranges, ip)) return plain(hop);
      nearest = hop;
    }
    return plain(nearest);
  }
}
