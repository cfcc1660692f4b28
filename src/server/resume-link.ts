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
import type { MovingSession, ResumeCluster, Resumption } from "../hub/resume.ts";
import { WebSocketClient, type ClientContext } from "../hub/websocket-client.ts";
import { errorText, type Logger } from "../log.ts";
import type { Rooms } from "../rooms/rooms.ts";
import type { SharedRooms } from "../rooms/shared-rooms.ts";
import type { Account } from "../store/store.ts";
import { sessionData } from "./session-data.ts";

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
  resumption: Resumption;
  context: ClientContext;
  /** A token's key outlives the grace a little: the holder deletes it when the session ends. */
  tokenTtlMs: number;
  log: Logger;
}

export function linkResume(parts: ResumeLinkParts): (origin: string, resumeEvent: ResumeEvent) => void {
  const { cluster, hub, rooms, shared, accounts, resumption, context, tokenTtlMs, log } = parts;
  const warn = (what: string) => (err: unknown) => log.warn(`Cluster: ${what}: ${errorText(err)}`);
  const link: ResumeCluster = {
    node: cluster.node,
    registered: (token) => void cluster.sessions.tokenAt(token, tokenTtlMs).catch(warn("could not register a resume token")),
    dropped: (token) => void cluster.sessions.tokenGone(token).catch(warn("could not drop a resume token")),
    locate: (token) => cluster.sessions.locateToken(token),
    ask: (node, token, freshId) => cluster.bus.toNode(node, event({ type: "resume-take", token, freshId })),
    refuse: (node, freshId, reason) => cluster.bus.toNode(node, event({ type: "resume-refused", freshId, reason })),
    movable: (client) => rooms.movable(client.id),
    cut(client, { token, to, freshId, msLeft }) {
      const session: MovingSession = { ...sessionData(client, rooms, token, msLeft), to, freshId };
      // From here, what this node sends the client goes on the bus after the cut: the new node keeps it.
      if (session.room) rooms.forget(session.id, session.to);
      cluster.bus.echo(event({ type: "resume-cut", session, from: cluster.node }));
    },
    tail: (node, freshId, kept) => cluster.bus.toNode(node, event({ type: "resume-tail", freshId, kept: kept.map((b) => Buffer.from(b).toString("base64")) })),
    release(client) {
      const account = client.account as Account | undefined;
      if (account) cluster.sessions.movedAway(account.userId);
      accounts.releaseLocally(client);
      hub.unregister(client.id);
      client.log.info("Session moved to another node");
    },
    arrive(session) {
      let client: WebSocketClient;
      try {
        client = WebSocketClient.detached(context, session.id, session.ip, session.state);
      } catch (err) {
        log.warn(`Cluster: a session moving here could not be made: ${errorText(err)}`);
        return undefined;
      }
      hub.adopt(client);
      accounts.restoreSession(client, session.account as Account);
      void cluster.sessions.take((session.account as Account).userId).catch(warn("could not take over an account's session"));
      if (session.room) rooms.restoreMember(client, session.room.id, session.room.join, session.room.frames, session.room.type);
      return client;
    },
  };
  resumption.cluster = link;

  return (origin, resumeEvent) => {
    switch (resumeEvent.type) {
      case "resume-take":
        return resumption.takeRequested(origin, resumeEvent.token, resumeEvent.freshId);
      case "resume-refused":
        return resumption.refused(resumeEvent.freshId, resumeEvent.reason);
      case "resume-cut":
        if (resumeEvent.session.room) shared.memberMoved(resumeEvent.session.room.id, resumeEvent.session.id, resumeEvent.from, resumeEvent.session.to);
        return resumption.cutHeard(origin, resumeEvent.session);
      case "resume-tail":
        return resumption.tailHeard(
          resumeEvent.freshId,
          resumeEvent.kept.map((b) => Buffer.from(b, "base64")),
        );
    }
  };
}
