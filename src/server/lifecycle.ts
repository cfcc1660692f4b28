// What runs besides the connections: one sweep a second for every client (backpressure, held
// sessions, throttle pruning), and the shutdown order: stop listening, tell and close every client,
// hand the shared rooms this node runs over to the cluster, dispose the rooms (they save what they
// keep), stop the game, write the boards' last records, close the store, then leave the cluster. A
// server that keeps the game across the restart (restart.ts) closes the clients that cannot resume
// first, saves the rooms and sessions, closes the others with 1012, and suspends the rooms instead.
import type { Server } from "bun";
import type { Accounts } from "../accounts/accounts.ts";
import type { Cluster } from "../cluster/cluster.ts";
import type { Dashboard } from "../http/dashboard.ts";
import type { Hub } from "../hub/hub.ts";
import type { Resumption } from "../hub/resume.ts";
import { CloseCode, type SocketData, type WebSocketClient } from "../hub/websocket-client.ts";
import { errorText, type Logger } from "../log.ts";
import { newDisconnect } from "../packets/index.ts";
import type { Rooms } from "../rooms/rooms.ts";
import type { SharedRooms } from "../rooms/shared-rooms.ts";
import type { Leaderboards } from "../store/leaderboards.ts";
import type { Store } from "../store/store.ts";

const SHUTDOWN_REASON = "server shutting down";
const RESTART_REASON = "server restarting: resume your session";
/** How long a stopping node of a cluster waits for its held sessions to resume on the others. */
const MOVE_OUT_MS = 10_000;
/**
 * How long closed clients are given to read their close frame before the server cuts what is left.
 * Bun runs the close handler as soon as the server sends its close frame, so nothing says when a client
 * has read it; and a cut socket with the frame still unread by the client (a Godot game reads once a
 * frame) loses it: the client saw 1006 (-1 in Godot) instead of 1001 or 1012.
 */
const CLOSE_FRAME_MS = 500;
const SWEEP_INTERVAL_MS = 1000;
const PRUNE_EVERY_SWEEPS = 60;

export interface LifecycleDeps {
  hub: Hub<WebSocketClient>;
  rooms: Rooms;
  shared: SharedRooms | undefined;
  accounts: Accounts;
  leaderboards: Leaderboards;
  store: Store;
  dashboard: Dashboard;
  cluster: Cluster | undefined;
  log: Logger;
  resumption: Resumption;
  /** The game's stop hook. */
  stopGame(): void | Promise<void>;
  /** Saves the rooms and the resumable sessions for the next start (a single server with resume on); returns how many sessions. */
  saveRun?(): number;
}

export class Lifecycle {
  private sweep: Timer | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly deps: LifecycleDeps) {}

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** One timer for every client, not one per client. */
  start(): void {
    let sweeps = 0;
    this.sweep = setInterval(() => {
      const now = performance.now();
      for (const client of this.deps.hub.clients.values()) client.checkBackpressure(now);
      this.deps.resumption.sweep();
      if (++sweeps % PRUNE_EVERY_SWEEPS === 0) this.deps.accounts.prune();
    }, SWEEP_INTERVAL_MS);
  }

  /** Tells every client the server is going, closes them with 1001 and stops; resolves when done. */
  shutdown(server: Server<SocketData>, timeoutMs: number): Promise<void> {
    const { hub, rooms, shared, leaderboards, store, dashboard, cluster, log, stopGame, resumption, saveRun } = this.deps;
    this.stopping ??= (async () => {
      const open = () => [...hub.clients.values()].filter((client) => client.open);
      const resumable = resumption.anyResumable;
      // A single server keeps the game for its next start; a node lets its sessions resume on the others.
      const keep = saveRun !== undefined && resumable;
      const moveOut = cluster !== undefined && resumable;
      const plan = keep ? ", keeping the game for the next start" : moveOut ? ", letting the sessions with a token resume on the other nodes" : "";
      log.info(`Shutting down: closing ${open().length} client connection(s)${plan}`);
      void server.stop(false);
      dashboard.close();
      const deadline = performance.now() + timeoutMs;
      const staying = (client: WebSocketClient) => (keep || moveOut) && client.session !== undefined;
      const closing = open().length;
      // Those that cannot resume are told, and leave the game as they would at any close.
      for (const client of open()) {
        if (staying(client)) continue;
        client.socketSendAs(newDisconnect(SHUTDOWN_REASON), 0);
        client.close(SHUTDOWN_REASON, CloseCode.goingAway);
      }
      while (open().some((client) => !staying(client)) && performance.now() < deadline) await Bun.sleep(10);
      let kept = keep;
      if (keep) {
        // A game that cannot be kept (a full disk) must not stop the shutdown: the boards and the store still close.
        try {
          saveRun();
        } catch (err) {
          log.error(`Could not keep the game for the next start (${errorText(err)}): the sessions end, the rest shuts down as usual`);
          kept = false;
        }
      }
      if (keep || moveOut) for (const client of open()) client.close(RESTART_REASON, CloseCode.serviceRestart);
      while (open().length > 0 && performance.now() < deadline) await Bun.sleep(10);
      if (moveOut) {
        // Their clients reconnect (to another node, through the balancer) and their sessions move there.
        const drained = performance.now() + MOVE_OUT_MS;
        while (resumption.heldCount > 0 && performance.now() < drained) await Bun.sleep(20);
        if (resumption.heldCount > 0) log.warn(`Shutting down: ${resumption.heldCount} session(s) did not resume elsewhere within ${MOVE_OUT_MS / 1000} s; they leave`);
      }
      clearInterval(this.sweep);
      if (closing > 0) await Bun.sleep(Math.max(0, Math.min(CLOSE_FRAME_MS, deadline - performance.now())));
      // Whoever has not finished the closing handshake by now is cut off.
      await server.stop(true);
      await shared?.handOver();
      if (kept) rooms.suspendAll();
      else rooms.disposeAll();
      try {
        await stopGame();
      } catch (err) {
        log.error(`The game's stop hook failed: ${errorText(err)}`);
      }
      await leaderboards.close();
      await store.close();
      await cluster?.leave();
    })();
    return this.stopping;
  }
}
