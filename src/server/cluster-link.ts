// Connects one server's parts to its cluster: the lobby and the shared rooms' topics span the nodes,
// frames from the bus reach the hub and the shared rooms, the boards hear of the records the other
// nodes write (and catch up from the store after an outage, and now and then), and the login
// throttle of the other nodes' failed logins.
import { LOBBY_TOPIC } from "../accounts/lobby.ts";
import type { Accounts, SharedAccounts } from "../accounts/accounts.ts";
import type { Moderation, ModerationDeps } from "../accounts/moderation.ts";
import type { Cluster } from "../cluster/cluster.ts";
import { FrameKind, type Batch, type Frame } from "../cluster/frames.ts";
import { Freshness, STALE_MS } from "../cluster/freshness.ts";
import type { Metrics } from "../http/metrics.ts";
import type { Hub, TopicRelay } from "../hub/hub.ts";
import type { DashboardView } from "../rooms/game.ts";
import { errorText, type Logger } from "../log.ts";
import type { RoomEvent, SharedRooms } from "../rooms/shared-rooms.ts";
import type { BoardChanges, Leaderboards } from "../store/leaderboards.ts";
import type { Ban, RecordRow } from "../store/store.ts";
import { QUEUE_ENTRY_TTL_MS, type MatchMade, type Matches, type SharedQueues } from "../rooms/matches.ts";
import type { PartyMove } from "../players/party-moves.ts";
import type { Players } from "../players/players.ts";
import type { ResumeEvent } from "./resume-link.ts";

type ClusterEvent =
  | RoomEvent
  | ResumeEvent
  | { type: "match"; match: MatchMade }
  | { type: "board"; rows: RecordRow[] }
  | { type: "login"; ok: boolean; username: string; ip: string }
  | { type: "put-out"; userId: number; reason: string }
  | { type: "mute"; userId: number; mute: Ban | null }
  | { type: "board-removed"; board: string; owner: number | null }
  | { type: "friends"; users: number[] }
  | ({ type: "party-move" } & PartyMove);

/** Boards re-read the store this often, for events the bus lost without an outage being noticed. */
const BOARD_CATCH_UP_MS = 30_000;
/** And again this long after Redis is back, once the bus has surely subscribed again. */
const BOARD_CATCH_UP_AFTER_OUTAGE_MS = 3000;

const event = (clusterEvent: ClusterEvent): Frame => ({ kind: FrameKind.event, json: JSON.stringify(clusterEvent) });

/** Failed logins this node could not tell the others while Redis was away: told when it is back. */
const MISSED_FAILURES = 10_000;

/**
 * Sessions and the throttle, across the cluster. A failed login made while the bus is down is told
 * to the others when it is back, counted by them as of then: the throttle errs towards refusing.
 */
export function sharedAccounts(cluster: Cluster, log: Logger): SharedAccounts & { resendMissed(): void } {
  let missed: { username: string; ip: string }[] = [];
  return {
    claim: (userId) => cluster.sessions.claim(userId),
    release: (userId) => void cluster.sessions.release(userId).catch((err) => log.warn(`Cluster: could not release the session of account ${userId}: ${errorText(err)}`)),
    failed(username, ip) {
      if (cluster.up) cluster.bus.toAll(event({ type: "login", ok: false, username, ip }));
      else if (missed.length < MISSED_FAILURES) missed.push({ username, ip });
    },
    succeeded: (username) => cluster.bus.toAll(event({ type: "login", ok: true, username, ip: "" })),
    resendMissed() {
      for (const { username, ip } of missed) cluster.bus.toAll(event({ type: "login", ok: false, username, ip }));
      if (missed.length > 0) log.info(`Cluster: told the other nodes of ${missed.length} failed login(s) made while Redis was away`);
      missed = [];
    },
  };
}

/** An operator's kick or ban reaches the account on every node; where it is logged in, from Redis. */
export function clusterModeration(cluster: Cluster): NonNullable<ModerationDeps["cluster"]> {
  return {
    node: cluster.node,
    putOut: (userId, reason) => cluster.bus.toAll(event({ type: "put-out", userId, reason })),
    mute: (userId, mute) => cluster.bus.toAll(event({ type: "mute", userId, mute: mute ?? null })),
    onlineElsewhere: async (userId) => {
      const node = await cluster.sessions.holder(userId);
      return node ? [node] : [];
    },
  };
}

/** Matchmaking queues in Redis; a match is told to every node, `made` here too. */
export function sharedQueues(cluster: Cluster, made: (match: MatchMade) => void): SharedQueues {
  return {
    node: cluster.node,
    enqueue: (queue, filter, clientId, size, members) => cluster.queues.enqueue(queue, filter, clientId, size, QUEUE_ENTRY_TTL_MS, members),
    remove: (queue, filter, clientId) => cluster.queues.remove(queue, filter, clientId),
    announce(match) {
      cluster.bus.toAll(event({ type: "match", match }));
      made(match);
    },
  };
}

/** The bus on /metrics. */
/** A change of friends lists told to every other node (players.ts keeps lists of its players). */
export function friendsChanged(cluster: Cluster): (users: number[]) => void {
  return (users) => cluster.bus.toAll(event({ type: "friends", users }));
}

/** A party's move told to every other node (party-moves.ts): their members follow it. */
export function partyMoved(cluster: Cluster): (move: PartyMove) => void {
  return (move) => cluster.bus.toAll(event({ type: "party-move", ...move }));
}

export function clusterMetrics(cluster: Cluster, metrics: Metrics): void {
  const { counters } = cluster.bus;
  metrics.counter("mmo_bus_messages_total", "Redis messages of the cluster's bus (a message is a batch of frames), by direction", () => [
    ["in", counters.messagesIn],
    ["out", counters.messagesOut],
  ], "direction");
  metrics.counter("mmo_bus_bytes_total", "Bytes of the cluster's bus messages, by direction", () => [
    ["in", counters.bytesIn],
    ["out", counters.bytesOut],
  ], "direction");
  metrics.counter("mmo_bus_frames_dropped_total", "Frames for other nodes dropped while Redis was unreachable", () => counters.framesDropped);
  metrics.counter("mmo_bus_stale_frames_dropped_total", "Rooms' per-tick state from other nodes dropped for arriving late (after this node was paused)", () => counters.staleDropped);
  metrics.counter("mmo_bus_rejected_total", "Bus messages dropped unread: not signed with this cluster's secret, or of another bus format", () => counters.rejected);
  metrics.counter("mmo_cluster_snapshots_rejected_total", "Room snapshots in Redis whose signature did not hold (not restored)", () => cluster.leases.rejectedSnapshots);
  metrics.counter("mmo_bus_reconnects_total", "Times the bus's subscription came back after its connection to Redis was lost", () => counters.reconnects);
  metrics.counter("mmo_cluster_outages_total", "Outages of Redis seen by this node", () => cluster.outageCount);
  metrics.gauge("mmo_cluster_nodes", "Live nodes of the cluster, as this node last saw them", () => cluster.nodes.length);
  metrics.gauge("mmo_bus_up", "1 while Redis answers and the bus is connected", () => (cluster.up ? 1 : 0));
  metrics.histogramFrom("mmo_bus_relay_lag_seconds", "From a bus message's send on its node to its arrival here (across machines, includes clock skew)", () => cluster.bus.lag);
}

/** The dashboard's view with the cluster's tiles first. */
export function withClusterTiles(cluster: Cluster, view: DashboardView): DashboardView {
  const health = cluster.health();
  const owners = Object.entries(health.rooms).map(([room, node]) => `${room}: ${node}`).join(", ");
  return { ...view, tiles: { Node: health.node, Nodes: health.nodes.join(", "), Bus: health.bus, ...(owners && { Owners: owners }), ...view.tiles } };
}

export interface ClusterLinkParts {
  hub: Hub;
  /** The throttle's failures made while the bus was down, to tell when it is back. */
  throttle: { resendMissed(): void };
  shared: SharedRooms;
  accounts: Accounts;
  leaderboards: Leaderboards;
  log: Logger;
  matches: Matches;
  moderation: Moderation;
  players: Players;
  /** Sessions moving between nodes (resume-link.ts). */
  resumeEvent(origin: string, resumeEvent: ResumeEvent): void;
}

/** The hub's relay: broadcasts of the topics that span the nodes, to every other node over the bus. */
export function topicRelay(cluster: Cluster): TopicRelay {
  return (topic, sender, exclude, bytes, superseded) => cluster.bus.toAll({ kind: FrameKind.topic, topic, sender, exclude, superseded, bytes });
}

/** What this node's boards tell the other nodes: the records it wrote and those its operator removed. */
export function boardChanges(cluster: Cluster): BoardChanges {
  return {
    written: (rows) => cluster.bus.toAll(event({ type: "board", rows })),
    removed: (board, owner) => cluster.bus.toAll(event({ type: "board-removed", board, owner: owner ?? null })),
  };
}

export function linkCluster(cluster: Cluster, parts: ClusterLinkParts): void {
  const { hub, throttle, shared, accounts, leaderboards, matches, moderation, players, log, resumeEvent } = parts;
  hub.span(LOBBY_TOPIC);
  leaderboards.catchUpEvery(BOARD_CATCH_UP_MS);
  const freshness = new Freshness();
  let behind = false;
  const batch = ({ origin, sentAt, frames }: Batch) => {
    // After a pause, the per-tick state in the backlog is dropped (the next tick supersedes it); the rest is delivered, late, once.
    const lateness = freshness.lateness(origin, sentAt, Date.now());
    const late = lateness > STALE_MS;
    if (late && !behind) log.warn(`Cluster: frames from node ${origin} arrive ${Math.round(lateness)} ms late (was this node paused?); dropping the per-tick state among them until they are fresh`);
    behind = late;
    for (const frame of frames) {
      try {
        if (frame.kind === FrameKind.topic && frame.superseded && late) cluster.bus.counters.staleDropped++;
        else if (frame.kind === FrameKind.topic) hub.relayed(frame.topic, frame.sender, frame.exclude, frame.bytes);
        else if (frame.kind === FrameKind.event) received(origin, JSON.parse(frame.json) as ClusterEvent);
        else shared.received(origin, frame);
      } catch (err) {
        log.error(`Cluster: a frame from node ${origin} failed: ${errorText(err)}`);
      }
    }
  };
  cluster.attach({
    nodesGone(gone) {
      shared.nodesGone(gone);
      // The first node to take a dead node's players tells their friends and parties they went away.
      for (const node of gone) {
        void cluster.presence
          .takeGone(node)
          .then((users) => players.goneWithNode(users))
          .catch((err: unknown) => log.warn(`Cluster: could not tell the friends of node ${node}'s players that it is gone: ${errorText(err)}`));
      }
    },
    reconnected() {
      shared.reconnected();
      // The bus's subscription comes back within a moment of Redis: then the others hear them.
      setTimeout(() => throttle.resendMissed(), BOARD_CATCH_UP_AFTER_OUTAGE_MS / 3);
      leaderboards.catchUpNowAndAfter(BOARD_CATCH_UP_AFTER_OUTAGE_MS);
    },
    roomOwners: () => shared.owners(),
    roomReportAges: () => shared.reportAges(),
    batch,
  });

  function received(origin: string, clusterEvent: ClusterEvent): void {
    switch (clusterEvent.type) {
      case "board":
        return leaderboards.applyRemote(clusterEvent.rows);
      case "board-removed":
        return leaderboards.removedRemote(clusterEvent.board, clusterEvent.owner ?? undefined);
      case "login":
        if (clusterEvent.ok) accounts.succeededElsewhere(clusterEvent.username);
        else accounts.failedElsewhere(clusterEvent.username, clusterEvent.ip);
        return;
      case "match":
        return matches.made(clusterEvent.match);
      case "put-out":
        return moderation.putOutHere(clusterEvent.userId, clusterEvent.reason);
      case "mute":
        return moderation.muteFromElsewhere(clusterEvent.userId, clusterEvent.mute ?? undefined);
      case "friends":
        return players.friendsChangedElsewhere(clusterEvent.users);
      case "party-move":
        return players.moves.moved(clusterEvent);
      case "resume-take":
      case "resume-refused":
      case "resume-cut":
      case "resume-tail":
        return resumeEvent(origin, clusterEvent);
      default:
        return shared.event(origin, clusterEvent);
    }
  }
}
