// IP addresses as numbers: an address or a CIDR range parsed once (IPv4 as its IPv4-mapped IPv6
// form, so that one check fits both), the budget an address counts against, loopback. Used by the
// options (--trust-proxy) and by every rule per address.

/** An address as 128 bits; IPv4 as its IPv4-mapped IPv6 form, so one range check fits both. */
export function parseIp(text: string): bigint | undefined {
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

export interface Range {
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

export const inRanges = (ranges: Range[], ip: bigint) => ranges.some((r) => (ip & r.mask) === r.base);

/** Whether the address is a loopback one (127.0.0.0/8, ::1, or their IPv4-mapped forms). */
export function isLoopback(address: string): boolean {
  const ip = parseIp(address);
  return ip !== undefined && inRanges(LOOPBACK, ip);
}
