// What an operator can do to a player (the admin API, docs/deploy.md): find them, kick them, ban them
// until a time or for good, lift a ban. Every action is written to the audit log (who, what, when,
// before and after) in the store; in a cluster, a kick or a ban reaches the player on whichever node
// it is connected to.
import { errorText, type Logger } from "../log.ts";
import type { Ban, PlayerRecord, Store } from "../store/store.ts";

/** The close code of a player put out by an operator: a policy close, after which the kit does not reconnect. */
export const PUT_OUT_CLOSE = 1008;
/** What an operator may write as a reason: it reaches the client inside a close frame (at most 123 bytes in all). */
export const MAX_OPERATOR_REASON_BYTES = 80;

/** What the player is told, word for word (docs/protocol.md and docs/deploy.md). */
export const ModerationReason = {
  kicked: (reason: string) => `Kicked by an operator: ${reason}`,
  banned: (ban: Pick<Ban, "reason" | "until">) => (ban.until === 0 ? `Banned for good: ${ban.reason}` : `Banned until ${new Date(ban.until).toISOString()}: ${ban.reason}`),
} as const;

/** Whether a ban or mute still holds at `now` (ms since the epoch). */
export function holds(ban: Pick<Ban, "until"> | undefined, now: number): ban is Ban {
  return ban !== undefined && (ban.until === 0 || ban.until > now);
}

/** A player as the admin API shows it: the account, its ban, and where it is connected. */
export interface PlayerView extends PlayerRecord {
  ban: (Ban & { untilText: string }) | null;
  mute: (Ban & { untilText: string }) | null;
  /**
   * Its sessions: on this node, with the client's id, state, address, room and whether it is held
   * (its client away, the session waiting to be resumed); on others, the node's name.
   */
  online: { node: string; clientId?: number; state?: string; address?: string; room?: string | null; held?: boolean }[];
}

export interface ModerationDeps {
  store: Store;
  log: Logger;
  /** Milliseconds since the epoch. */
  clock(): number;
  /** This node's sessions of the account: live ones, and those held while their clients are away (held). */
  sessionsOf(userId: number): { clientId: number; state: string; address: string; room: string | null; held: boolean }[];
  /** Closes the account's connections on this node and ends its held sessions; how many there were. */
  putOut(userId: number, reason: string): number;
  /** Sets (or with undefined lifts) the mute on the account's sessions on this node. */
  muteHere(userId: number, mute: Ban | undefined): void;
  /** In a cluster: this node's name, the account put out (or its mute told) on every other node too. */
  cluster?: { node: string; putOut(userId: number, reason: string): void; mute(userId: number, mute: Ban | undefined): void; onlineElsewhere(userId: number): Promise<string[]> };
}

export class Moderation {
  constructor(private readonly deps: ModerationDeps) {}

  /** Players by id, name (login or display, case-insensitive) or device; with their bans and connections. */
  async find(query: { id?: number; name?: string; device?: string }): Promise<PlayerView[]> {
    const records = await this.deps.store.findPlayers(query);
    return Promise.all(records.map((record) => this.view(record)));
  }

  /** Closes the player's connections wherever they are (PUT_OUT_CLOSE, with the reason); audited. */
  async kick(operator: string, userId: number, reason: string): Promise<PlayerView | undefined> {
    const [player] = await this.deps.store.findPlayers({ id: userId });
    if (!player) return undefined;
    this.everywhere(userId, ModerationReason.kicked(reason));
    await this.audit(operator, "kick", userId, null, { reason });
    return this.view(player);
  }

  /** Bans the account until `until` (ms since the epoch; 0: for good) and puts it out; audited with the ban it replaced. */
  async ban(operator: string, userId: number, reason: string, until: number): Promise<PlayerView | undefined> {
    const [player] = await this.deps.store.findPlayers({ id: userId });
    if (!player) return undefined;
    const before = (await this.deps.store.banOf(userId)) ?? null;
    const ban: Ban = { reason, until, operator, at: this.deps.clock() };
    await this.deps.store.setBan(userId, ban);
    this.everywhere(userId, ModerationReason.banned(ban));
    await this.audit(operator, "ban", userId, before, ban);
    return this.view(player);
  }

  /** Lifts the account's ban (if it has one); audited. */
  async unban(operator: string, userId: number): Promise<PlayerView | undefined> {
    const [player] = await this.deps.store.findPlayers({ id: userId });
    if (!player) return undefined;
    const before = (await this.deps.store.banOf(userId)) ?? null;
    await this.deps.store.setBan(userId, undefined);
    await this.audit(operator, "unban", userId, before, null);
    return this.view(player);
  }

  /** Mutes the account until `until` (0: for good): its chat lines are refused, wherever it is; audited. */
  async mute(operator: string, userId: number, reason: string, until: number): Promise<PlayerView | undefined> {
    const [player] = await this.deps.store.findPlayers({ id: userId });
    if (!player) return undefined;
    const before = (await this.deps.store.banOf(userId, "mutes")) ?? null;
    const mute: Ban = { reason, until, operator, at: this.deps.clock() };
    await this.deps.store.setBan(userId, mute, "mutes");
    this.deps.muteHere(userId, mute);
    this.deps.cluster?.mute(userId, mute);
    await this.audit(operator, "mute", userId, before, mute);
    return this.view(player);
  }

  async unmute(operator: string, userId: number): Promise<PlayerView | undefined> {
    const [player] = await this.deps.store.findPlayers({ id: userId });
    if (!player) return undefined;
    const before = (await this.deps.store.banOf(userId, "mutes")) ?? null;
    await this.deps.store.setBan(userId, undefined, "mutes");
    this.deps.muteHere(userId, undefined);
    this.deps.cluster?.mute(userId, undefined);
    await this.audit(operator, "unmute", userId, before, null);
    return this.view(player);
  }

  /** The account's mute, for its session (read at login), if it still holds. */
  async muteOf(userId: number): Promise<Ban | undefined> {
    const mute = await this.deps.store.banOf(userId, "mutes");
    return holds(mute, this.deps.clock()) ? mute : undefined;
  }

  /** Another node muted or unmuted the account: its sessions here take it. */
  muteFromElsewhere(userId: number, mute: Ban | undefined): void {
    this.deps.muteHere(userId, mute);
  }

  /** Why the account may not log in now (its ban), or undefined. A ban past its end is lifted. */
  async refusal(userId: number): Promise<string | undefined> {
    const ban = await this.deps.store.banOf(userId);
    if (!ban) return undefined;
    if (!holds(ban, this.deps.clock())) {
      await this.deps.store.setBan(userId, undefined).catch((err: unknown) => this.deps.log.warn(`Could not remove the ended ban of account ${userId}: ${errorText(err)}`));
      return undefined;
    }
    return ModerationReason.banned(ban);
  }

  /** Another node put the account out: this node closes its connections. */
  putOutHere(userId: number, reason: string): void {
    const count = this.deps.putOut(userId, reason);
    if (count > 0) this.deps.log.info(`Account ${userId} put out by an operator on another node: ${count} connection(s) closed`);
  }

  private everywhere(userId: number, reason: string): void {
    this.deps.putOut(userId, reason);
    this.deps.cluster?.putOut(userId, reason);
  }

  /** Writes an operator's action to the audit log (who, what, on whom, the state before and after) and the log. */
  async audit(operator: string, action: string, target: number, before: unknown, after: unknown): Promise<void> {
    await this.deps.store.audit({ at: this.deps.clock(), operator, action, target, before: before === null ? null : JSON.stringify(before), after: after === null ? null : JSON.stringify(after) });
    this.deps.log.info(`Operator ${operator}: ${action} account ${target}${after === null ? "" : ` ${JSON.stringify(after)}`}`);
  }

  private async view(player: PlayerRecord): Promise<PlayerView> {
    const ban = (await this.deps.store.banOf(player.userId)) ?? null;
    const mute = (await this.deps.store.banOf(player.userId, "mutes")) ?? null;
    const shown = (b: Ban | null) => b && { ...b, untilText: b.until === 0 ? "for good" : new Date(b.until).toISOString() };
    const here = this.deps.sessionsOf(player.userId).map((c) => ({ node: this.deps.cluster?.node ?? "", ...c }));
    const elsewhere = this.deps.cluster ? (await this.deps.cluster.onlineElsewhere(player.userId)).filter((node) => node !== this.deps.cluster!.node).map((node) => ({ node })) : [];
    return { ...player, ban: shown(ban), mute: shown(mute), online: [...here, ...elsewhere] };
  }
}
