// Which packets.proto this build speaks: the first 16 hex digits of the SHA-256 of the compiled
// descriptor. The Godot kit records it, /healthz reports it: a kit from another build is one look away.
import { createHash } from "node:crypto";
import { PACKETS_DESCRIPTOR } from "./generated/descriptor.generated.ts";

export const PROTO_HASH = createHash("sha256").update(Buffer.from(PACKETS_DESCRIPTOR, "base64")).digest("hex").slice(0, 16);
