// What the nodes of a cluster say to each other through Redis is signed with the cluster's secret
// (--cluster-secret): anyone who can reach Redis could otherwise publish a batch that logs in as
// anyone, locks names, writes scores or moves clients. A bus message is the bus format's version, the
// batch, and an HMAC-SHA256 of both; a stored snapshot is its HMAC, a colon, and the JSON.
import { createHmac, timingSafeEqual } from "node:crypto";

/** The bus format's version: a node of another one is detected and told, its batches never misread. */
export const BUS_FORMAT = 2;
const MAC_BYTES = 32;

export type Unsealed = { ok: true; bytes: Uint8Array } | { ok: false; why: "format" | "signature"; format?: number };

export class Seal {
  constructor(private readonly secret: string) {}

  private mac(bytes: Uint8Array): Buffer {
    return createHmac("sha256", this.secret).update(bytes).digest();
  }

  /** A bus message: the version, the batch, its signature. */
  message(batch: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(1 + batch.length + MAC_BYTES);
    out[0] = BUS_FORMAT;
    out.set(batch, 1);
    this.mac(out.subarray(0, 1 + batch.length)).copy(out, 1 + batch.length);
    return out;
  }

  /** The batch of a bus message, or why it is not one of this cluster's. */
  open(message: Uint8Array): Unsealed {
    if (message[0] !== BUS_FORMAT) return { ok: false, why: "format", format: message[0] };
    if (message.length < 1 + MAC_BYTES) return { ok: false, why: "signature" };
    const body = message.subarray(0, message.length - MAC_BYTES);
    const given = message.subarray(message.length - MAC_BYTES);
    if (!timingSafeEqual(this.mac(body), given)) return { ok: false, why: "signature" };
    return { ok: true, bytes: body.subarray(1) };
  }

  /** A snapshot as stored: its signature, then the JSON. */
  snapshot(json: string): string {
    return `${this.mac(Buffer.from(json)).toString("base64url")}:${json}`;
  }

  /** The JSON of a stored snapshot, or undefined when its signature does not hold. */
  openSnapshot(stored: string): string | undefined {
    const colon = stored.indexOf(":");
    if (colon < 0) return undefined;
    const json = stored.slice(colon + 1);
    const given = Buffer.from(stored.slice(0, colon), "base64url");
    const mac = this.mac(Buffer.from(json));
    return given.length === mac.length && timingSafeEqual(given, mac) ? json : undefined;
  }
}
