// Parties: a leader and up to --max-party-size members, kept in the store (so a party outlives a
// dropped connection, a restart, and the node it was made on). An invitation is a signed token naming
// the party, the invited player and an expiry: any node can check it, and nobody else can use it.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { ClientInterfacer } from "../hub/client.ts";
import type { MsgValue } from "../packets/index.ts";
import type { PartyDecision, PartyRow } from "../store/store.ts";
import { PlayersReason, type Notice, type PlayersCore, type PlayerSession } from "./core.ts";

/** How long an invitation can be accepted. */
export const INVITATION_TTL_MS = 10 * 60_000;

/** The refusals of party_request, word for word (docs/protocol.md). */
export const PartyReason = {
  unknownAction: "Unknown action: use create, invite, accept, decline, leave, kick or lead",
  inParty: "Already in a party",
  noParty: "You are in no party",
  notLeader: "Only the party's leader can do that",
  full: (max: number) => `The party is full (at most ${max})`,
  notMember: "That player is not in your party",
  theyBlocked: "That player does not take invitations from you",
  badInvitation: "That invitation is not valid (expired, or not yours)",
  gone: "That party is gone",
  yourself: "You cannot do that to yourself",
  failed: "Could not change the party now: try again later",
} as const;

type Refusal = { refused: string };
const refuse = (refused: string): PartyDecision<Refusal> => ({ result: { refused } });

export class Parties {
  constructor(
    private readonly core: PlayersCore,
    private readonly notify: (userId: number, notice: Notice) => Promise<void>,
  ) {}

  handle(client: ClientInterfacer, request: MsgValue<"partyRequest">): void {
    const { action } = request;
    const answer = (reason?: string) => client.socketSend({ $case: "partyResponse", value: { ok: reason === undefined, reason: reason ?? "", action } });
    this.core.request(client, answer, () => answer(PartyReason.failed), async (session) => {
      const reason = await this.act(session, request);
      answer(reason);
    });
  }

  /** The player came or went (a login: it gets its party too): its party sees it. */
  async presenceChanged(userId: number): Promise<void> {
    const party = await this.core.deps.store.social.partyOf(userId);
    if (party) await this.tell(party);
  }

  /** Does the request; resolves to the reason of a refusal, or undefined. */
  private async act(session: PlayerSession, { action, userId, name, partyId }: MsgValue<"partyRequest">): Promise<string | undefined> {
    const { social } = this.core.deps.store;
    const { maxPartySize } = this.core.deps.limits;
    const me = session.account;
    switch (action) {
      case "create": {
        const id = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex");
        if (!(await social.createParty(id, me.userId))) return PartyReason.inParty;
        session.client.log.info(`Account ${me.userId} made party ${id}`);
        await this.tell((await social.partyOf(me.userId))!);
        return undefined;
      }
      case "accept":
      case "decline": {
        const invited = this.opened(partyId, me.userId);
        if (!invited) return PartyReason.badInvitation;
        if (action === "decline") return undefined;
        const outcome = await social.changeParty(invited, (party): PartyDecision<Refusal | PartyRow> => {
          if (!party) return refuse(PartyReason.gone);
          if (party.members.length >= maxPartySize) return refuse(PartyReason.full(maxPartySize));
          return { add: me.userId, result: party };
        });
        if (outcome === undefined) return PartyReason.inParty;
        if ("refused" in outcome) return outcome.refused;
        await this.tell((await social.partyOf(me.userId))!);
        return undefined;
      }
      case "invite":
      case "kick":
      case "lead": {
        const party = await social.partyOf(me.userId);
        if (!party) return PartyReason.noParty;
        if (party.leaderId !== me.userId) return PartyReason.notLeader;
        const other = await this.core.resolve(userId, name);
        if (!other) return PlayersReason.unknownPlayer;
        if (other.userId === me.userId) return PartyReason.yourself;
        if (action === "invite") return this.invite(session, party, other);
        const outcome = await social.changeParty(party.id, (now): PartyDecision<Refusal | undefined> => {
          if (!now?.members.some((m) => m.userId === other.userId)) return refuse(PartyReason.notMember);
          return action === "kick" ? { remove: other.userId, result: undefined } : { leaderId: other.userId, result: undefined };
        });
        if (outcome) return outcome.refused;
        if (action === "kick") this.core.toPlayer(other.userId, { $case: "partyState", value: { partyId: "", leaderId: 0, members: [] } });
        await this.tell((await social.partyOf(me.userId))!);
        return undefined;
      }
      case "leave": {
        const party = await social.partyOf(me.userId);
        if (!party) return PartyReason.noParty;
        await social.changeParty(party.id, (now): PartyDecision<undefined> => {
          const rest = now?.members.filter((m) => m.userId !== me.userId) ?? [];
          if (rest.length === 0) return { dissolve: true, result: undefined };
          return { remove: me.userId, leaderId: now!.leaderId === me.userId ? rest[0]!.userId : undefined, result: undefined };
        });
        this.core.toPlayer(me.userId, { $case: "partyState", value: { partyId: "", leaderId: 0, members: [] } });
        const left = await social.party(party.id);
        if (left) await this.tell(left);
        return undefined;
      }
      default:
        return PartyReason.unknownAction;
    }
  }

  private async invite(session: PlayerSession, party: PartyRow, other: { userId: number; name: string }): Promise<string | undefined> {
    const { social } = this.core.deps.store;
    const { maxPartySize } = this.core.deps.limits;
    if (party.members.length >= maxPartySize) return PartyReason.full(maxPartySize);
    if ((await social.pairState(other.userId, session.account.userId)) === "blocked") return PartyReason.theyBlocked;
    const token = this.sign(party.id, other.userId, this.core.deps.clock() + INVITATION_TTL_MS);
    const me = session.account;
    if ((await this.core.deps.presence.lookup([other.userId])).has(other.userId)) {
      this.core.toPlayer(other.userId, { $case: "partyInvitation", value: { partyId: token, fromId: me.userId, fromName: me.name } });
    } else {
      await this.notify(other.userId, { kind: "party_invitation", subject: me.name, content: token, senderId: me.userId });
    }
    return undefined;
  }

  /** Sends the party as it is, with who is online, to each of its members. */
  private async tell(party: PartyRow): Promise<void> {
    const ids = party.members.map((m) => m.userId);
    const online = await this.core.deps.presence.lookup(ids);
    const members = party.members.map((m) => ({ userId: m.userId, name: m.name, online: online.has(m.userId) }));
    this.core.toPlayers(ids, { $case: "partyState", value: { partyId: party.id, leaderId: party.leaderId, members } });
  }

  /** An invitation's token: the party, the expiry and a signature of both and of the invited player. */
  private sign(partyId: string, userId: number, expires: number): string {
    return `${partyId}.${expires}.${this.signature(partyId, userId, expires)}`;
  }

  /** The party of an invitation the player may use, or undefined. */
  private opened(token: string, userId: number): string | undefined {
    const [partyId, expiresText, signature] = token.split(".");
    const expires = Number(expiresText);
    if (!partyId || !signature || !Number.isSafeInteger(expires) || expires < this.core.deps.clock()) return undefined;
    const expected = Buffer.from(this.signature(partyId, userId, expires));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected) ? partyId : undefined;
  }

  private signature(partyId: string, userId: number, expires: number): string {
    return createHmac("sha256", this.core.deps.inviteKey).update(`party ${partyId} ${userId} ${expires}`).digest("base64url").slice(0, 22);
  }
}
