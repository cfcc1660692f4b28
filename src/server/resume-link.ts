// Session resume across the nodes of a cluster: a token works on any node. The node a reconnect lands
// on looks up which node holds the session (`mmo:resume:TOKEN`) and asks it; the holder sends a cut
// that every node, itself included, hears at the same point of the bus's order (`mmo:all`). Whatever
// was addressed to the client before the cut the old node kept (and sends on, the "tail"); whatever
// comes after it the new node keeps. So the kept packets arrive once each and in order, then the
// session, its state, its room membership (the owner redirects its sends) and its account move.
import type { Accounts } from "../accounts/accounts.ts";
import type { Cluster } from "../cluster/cluster.ts";
import { FrameKind } from "../cluster/frames.ts";
import type { Hub } from "../hub/hub.ts";
import { MOVE_TIMEOUT_MS, ResumeReason, type Resumption, type SessionData, type SessionsElsewhere } from "../hub/resume.ts";
import { WebSocketClient, type ClientContext } from "../hub/websocket-client.ts";
import { errorText, type Logger } from "../log.ts";
import type { Rooms } from "../rooms/rooms.ts";
import type { SharedRooms } from "../rooms/shared-rooms.ts";
import { sessionData } from "./session-data.ts";

/** What a session moving between nodes carries (on the bus). */
export interface MovingSession extends SessionData {
  /** The node it moves to, and the new connection there that takes it. */
  to: string;
  freshId: number;
}

export type ResumeEvent =
  | { type: "resume-take"; token: string; freshId: number }
  | { type: "resume-refused"; freshId: number; reason: string }
  | { type: "resume-cut"; session: MovingSession; from: string }
  | { type: "resume-tail"; freshId: number; kept: string[] };

const event = (resumeEvent: ResumeEvent) => ({ kind: FrameKind.event, json: JSON.stringify(resumeEvent) }) as const;

export interface ResumeLinkParts {
  cluster: Cluster;
  hub: Hub<WebSocketClient>;
  rooms: Rooms;
  shared: SharedRooms;
  accounts: Accounts;
  /** Made after this, which they hold: the resumption, and what a client made here is made with. */
  resumption: () => Resumption;
  context: () => ClientContext;
  /** A token's key outlives the grace a little: the holder deletes it when the session ends. */
  tokenTtlMs: number;
  log: Logger;
}

/** Sessions moving between the nodes of a cluster: the resumption's sessions elsewhere, and the bus's resume events. */
export class ResumeMoves implements SessionsElsewhere {
  /** New connections here waiting for a session held on another node. */
  private readonly waiting = new Map<number, { fresh: WebSocketClient; timer: Timer }>();
  /** Clients arrived here at their cut, by the new connection they take over once their tail is here. */
  private readonly arrived = new Map<number, WebSocketClient>();
  private readonly warn = (what: string) => (err: unknown) => this.parts.log.warn(`Cluster: ${what}: ${errorText(err)}`);

  constructor(private readonly parts: ResumeLinkParts) {}

  private get resumption(): Resumption {
    return this.parts.resumption();
  }

  registered(token: string): void {
    void this.parts.cluster.sessions.tokenAt(token, this.parts.tokenTtlMs).catch(this.warn("could not register a resume token"));
  }

  dropped(token: string): void {
    void this.parts.cluster.sessions.tokenGone(token).catch(this.warn("could not drop a resume token"));
  }

  /** The token is not this node's: the node that holds it is asked to move the session here. */
  seek(fresh: WebSocketClient, token: string): void {
    const { cluster } = this.parts;
    const timer = setTimeout(() => this.refused(fresh.id, ResumeReason.unknownToken), MOVE_TIMEOUT_MS);
    this.waiting.set(fresh.id, { fresh, timer });
    void cluster.sessions.locateToken(token).then(
      (node) => {
        if (node === undefined || node === cluster.node) this.refused(fresh.id, ResumeReason.unknownToken);
        else cluster.bus.toNode(node, event({ type: "resume-take", token, freshId: fresh.id }));
      },
      () => this.refused(fresh.id, ResumeReason.unknownToken),
    );
  }

  /** What the bus brings of sessions moving between nodes. */
  heard(origin: string, resumeEvent: ResumeEvent): void {
    switch (resumeEvent.type) {
      case "resume-take":
        return this.takeRequested(origin, resumeEvent.token, resumeEvent.freshId);
      case "resume-refused":
        return this.refused(resumeEvent.freshId, resumeEvent.reason);
      case "resume-cut":
        if (resumeEvent.session.room) this.parts.shared.memberMoved(resumeEvent.session.room.id, resumeEvent.session.id, resumeEvent.from, resumeEvent.session.to);
        return this.cutHeard(origin, resumeEvent.session);
      case "resume-tail":
        return this.tailHeard(
          resumeEvent.freshId,
          resumeEvent.kept.map((b) => Buffer.from(b, "base64")),
        );
    }
  }

  /** Another node's new connection asks for a session held here: its cut, or a refusal. */
  private takeRequested(origin: string, token: string, freshId: number): void {
    const { cluster, rooms } = this.parts;
    const leaving = this.resumption.leave(token, (client) => rooms.movable(client.id));
    if ("reason" in leaving) return cluster.bus.toNode(origin, event({ type: "resume-refused", freshId, reason: leaving.reason }));
    const { client, msLeft } = leaving;
    client.log.info(`Session moving to node ${origin}`);
    const session: MovingSession = { ...sessionData(client, rooms, token, msLeft), to: origin, freshId };
    // From here, what this node sends the client goes on the bus after the cut: the new node keeps it.
    if (session.room) rooms.forget(session.id, session.to);
    cluster.bus.echo(event({ type: "resume-cut", session, from: cluster.node }));
  }

  /** The cut, heard by every node at one point of the bus's order. */
  private cutHeard(origin: string, session: MovingSession): void {
    const { cluster, hub } = this.parts;
    if (origin === cluster.node) {
      // The old node: what it kept until here goes to the new node, and it lets go.
      const client = hub.clients.get(session.id);
      const kept = client && this.resumption.letGo(client);
      if (!client || !kept) return;
      cluster.bus.toNode(session.to, event({ type: "resume-tail", freshId: session.freshId, kept: kept.map((b) => Buffer.from(b).toString("base64")) }));
      this.release(client);
      return;
    }
    if (session.to !== cluster.node) return;
    const client = this.arrive(session);
    if (!client) return this.refused(session.freshId, ResumeReason.unknownToken);
    this.resumption.holdArriving(client, session.token, session.topics, session.msLeft);
    // The new connection gave up waiting (its move timed out): the session ends here.
    if (!this.waiting.has(session.freshId)) return this.resumption.end(client, "the new connection it moved for is gone");
    this.arrived.set(session.freshId, client);
  }

  /** The old node's kept packets: the arrived client takes the waiting connection over, with those first. */
  private tailHeard(freshId: number, kept: Uint8Array[]): void {
    const client = this.arrived.get(freshId);
    if (!client) return;
    this.arrived.delete(freshId);
    const fresh = this.stopWaiting(freshId);
    if (!fresh) return this.resumption.end(client, "the new connection it moved for is gone");
    this.resumption.completeArrival(client, fresh, kept);
  }

  /** The holding node refused (or the move failed): the waiting connection is told, and stays a fresh one. */
  private refused(freshId: number, reason: string): void {
    const fresh = this.stopWaiting(freshId);
    if (!fresh) return;
    const arrived = this.arrived.get(freshId);
    this.arrived.delete(freshId);
    if (arrived) this.resumption.end(arrived, "its move from another node did not finish");
    if (fresh.open) this.resumption.refuse(fresh, reason);
  }

  /** The new connection waiting for move `freshId`, no longer waiting (its timer stopped); undefined if none was. */
  private stopWaiting(freshId: number): WebSocketClient | undefined {
    const waiting = this.waiting.get(freshId);
    if (!waiting) return undefined;
    clearTimeout(waiting.timer);
    this.waiting.delete(freshId);
    return waiting.fresh;
  }

  /** This node lets go of the client (no leave: it lives on elsewhere). */
  private release(client: WebSocketClient): void {
    const { cluster, accounts, hub } = this.parts;
    const account = client.account;
    if (account) cluster.sessions.movedAway(account.userId);
    accounts.releaseLocally(client);
    hub.unregister(client.id);
    client.log.info("Session moved to another node");
  }

  /** A client arriving here at the cut: made, in its state and room. */
  private arrive(session: MovingSession): WebSocketClient | undefined {
    const { cluster, hub, accounts, rooms, log } = this.parts;
    let client: WebSocketClient;
    try {
      client = WebSocketClient.detached(this.parts.context(), session.id, session.ip, session.state);
    } catch (err) {
      log.warn(`Cluster: a session moving here could not be made: ${errorText(err)}`);
      return undefined;
    }
    hub.adopt(client);
    accounts.restoreSession(client, session.account);
    void cluster.sessions.take(session.account.userId).catch(this.warn("could not take over an account's session"));
    if (session.room) rooms.restoreMember(client, session.room.id, session.room.join, session.room.frames, session.room.type);
    return client;
  }
}
