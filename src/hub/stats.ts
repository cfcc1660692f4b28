// Server-wide counters: what came in, what went out, what was dropped and why, how connections and
// logins ended. Plain numbers, so the hot path pays an increment; /metrics and /dashboard read them.
import type { MsgCase } from "../packets/index.ts";

export type LoginOutcome = "ok" | "bad_credentials" | "throttled" | "already_logged_in" | "busy" | "failed";
export type RegistrationOutcome = "ok" | "invalid" | "exists" | "limited" | "busy" | "failed";

/** The standard close codes (RFC 6455 and IANA's registry) by name. */
const CLOSE_CODE_NAMES: Record<number, string> = {
  1000: "normal",
  1001: "going_away",
  1002: "protocol_error",
  1003: "unsupported_data",
  1005: "no_status",
  1006: "abnormal",
  1007: "invalid_payload",
  1008: "policy_violation",
  1009: "message_too_big",
  1010: "mandatory_extension",
  1011: "internal_error",
  1012: "service_restart",
  1013: "try_again_later",
  1014: "bad_gateway",
  1015: "tls_handshake",
};

/** A close code as a metrics label: a bounded set of names, whatever codes clients send. */
export function closeCodeName(code: number): string {
  return CLOSE_CODE_NAMES[code] ?? "other";
}

export class Stats {
  framesIn = 0;
  bytesIn = 0;
  /** Packets handed to the network: one per direct send, one per publish (whatever its fan-out). */
  packetsOut = 0;
  bytesOut = 0;
  readonly messagesIn: Partial<Record<MsgCase, number>> = {};
  readonly messagesOut: Partial<Record<MsgCase, number>> = {};
  malformedDropped = 0;
  rateDropped = 0;
  /** Direct sends Bun dropped because the client's socket was over the backpressure limit. */
  sendDropped = 0;
  spoofedSenderIds = 0;
  /** Broadcasts relayed from other nodes of a cluster and published here. */
  relayedIn = 0;
  handlerErrors = 0;
  connectionsOpened = 0;
  readonly upgradesRefused = new Map<string, number>();
  /** Closes by the name of their code (a client picks its code: anything non-standard is "other"). */
  readonly closeCodes = new Map<string, number>();
  readonly logins: Partial<Record<LoginOutcome, number>> = {};
  readonly registrations: Partial<Record<RegistrationOutcome, number>> = {};

  messageIn(kind: MsgCase): void {
    this.messagesIn[kind] = (this.messagesIn[kind] ?? 0) + 1;
  }

  packetOut(kind: MsgCase, bytes: number): void {
    this.messagesOut[kind] = (this.messagesOut[kind] ?? 0) + 1;
    this.packetsOut++;
    this.bytesOut += bytes;
  }

  refuse(reason: string): void {
    this.upgradesRefused.set(reason, (this.upgradesRefused.get(reason) ?? 0) + 1);
  }

  closed(code: number): void {
    const name = closeCodeName(code);
    this.closeCodes.set(name, (this.closeCodes.get(name) ?? 0) + 1);
  }

  login(outcome: LoginOutcome): void {
    this.logins[outcome] = (this.logins[outcome] ?? 0) + 1;
  }

  registration(outcome: RegistrationOutcome): void {
    this.registrations[outcome] = (this.registrations[outcome] ?? 0) + 1;
  }
}
