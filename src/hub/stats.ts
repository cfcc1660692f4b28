// Server-wide counters: what came in, what went out, what was dropped and why, how connections and
// logins ended. Plain numbers, so the hot path pays an increment; /metrics and /dashboard read them.
import type { MsgCase } from "../packets/index.ts";

export type LoginOutcome = "ok" | "bad_credentials" | "throttled" | "already_logged_in" | "failed";
export type RegistrationOutcome = "ok" | "invalid" | "exists" | "failed";

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
  handlerErrors = 0;
  connectionsOpened = 0;
  readonly upgradesRefused = new Map<string, number>();
  readonly closeCodes = new Map<number, number>();
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
    this.closeCodes.set(code, (this.closeCodes.get(code) ?? 0) + 1);
  }

  login(outcome: LoginOutcome): void {
    this.logins[outcome] = (this.logins[outcome] ?? 0) + 1;
  }

  registration(outcome: RegistrationOutcome): void {
    this.registrations[outcome] = (this.registrations[outcome] ?? 0) + 1;
  }
}
