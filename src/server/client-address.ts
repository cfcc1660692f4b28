// Whose request it is: the socket's peer, or, when the peer is a proxy we were told to trust
// (--trust-proxy), the client the proxy names in the one header the operator names (--proxy-header:
// X-Forwarded-For by default, its right-most untrusted hop). Every other forwarding header is
// ignored, as are all of them from anyone else: a client cannot pick its own address.

/** An address as 128 bits; IPv4 as its IPv4-mapped IPv6 form, so one range check fits both. */
function parseIp(text: string): bigint | undefined {
  const ip = text.trim().replace(/%.*$/, "");
  const v4 = parseIpv4(ip);
  if (v4 !== undefined) return 0xffff00000000n | v4;
  if (!ip.includes(":")) return undefined;
  const [head, tail, ...more] = ip.split("::");
  if (more.length > 0) return undefined;
  const groups = (part: string | undefined): bigint[] | undefined => {
    if (!part) return [];
    const out: bigint[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      const embedded = i === pieces.length - 1 ? parseIpv4(piece) : undefined;
      if (embedded !== undefined) {
        out.push(embedded >> 16n, embedded & 0xffffn);
      } else if (/^[0-9a-f]{1,4}$/i.test(piece)) {
        out.push(BigInt(`0x${piece}`));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const left = groups(head);
  const right = groups(tail);
  if (!left || !right) return undefined;
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...Array<bigint>(tail === undefined ? 0 : missing).fill(0n), ...right];
  return all.reduce((acc, g) => (acc << 16n) | g, 0n);
}

function parseIpv4(ip: string): bigint | undefined {
  const m = ip.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((acc, o) => (acc << 8n) | BigInt(o), 0n);
}

/**
 * The address as a budget (connections, registrations, failed logins, resume attempts, the password
 * queue): an IPv4 address itself, an IPv6 address its /64, which one host or home network is given
 * whole, so that it cannot take a fresh budget with each of its 2^64 addresses.
 */
export function addressBudget(address: string): string {
  const ip = parseIp(address);
  if (ip === undefined) return address;
  if (ip >> 32n === 0xffffn) return address.replace(/^::ffff:/i, "");
  const prefix = ip >> 64n;
  const groups = [48n, 32n, 16n, 0n].map((shift) => ((prefix >> shift) & 0xffffn).toString(16));
  return `${groups.join(":")}::/64`;
}

interface Range {
  base: bigint;
  mask: bigint;
}

const ALL = (1n << 128n) - 1n;

/** An address or CIDR range (`10.0.0.0/8`, `::1`, `fd00::/8`); throws on anything else. */
export function parseRange(text: string): Range {
  const [addr, bits, ...rest] = text.trim().split("/");
  const base = parseIp(addr ?? "");
  if (base === undefined || rest.length > 0) throw new Error(`"${text}" is not an IP address or CIDR range`);
  const isV4 = parseIpv4(addr!.trim()) !== undefined;
  const width = isV4 ? 32 : 128;
  const prefix = bits === undefined ? width : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= width)) throw new Error(`"${text}" has a prefix length outside 0-${width}`);
  const hostBits = BigInt(width - prefix);
  const mask = ALL ^ ((1n << hostBits) - 1n);
  return { base: base & mask, mask };
}

const LOOPBACK = [parseRange("127.0.0.0/8"), parseRange("::1")];

const inRanges = (ranges: Range[], ip: bigint) => ranges.some((r) => (ip & r.mask) === r.base);

/** Whether the address is a loopback one (127.0.0.0/8, ::1, or their IPv4-mapped forms). */
export function isLoopback(address: string): boolean {
  const ip = parseIp(address);
  return ip !== undefined && inRanges(LOOPBACK, ip);
}

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
