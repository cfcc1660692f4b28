// Who is in the cluster: each node keeps a key of its own, `mmo:node:NAME`, alive with a heartbeat
// every second and an expiry of three; a node that stops heart-beating is gone for the others
// within three seconds. Every key a node writes has an expiry or an owner that deletes it.
import type { Commands } from "./redis.ts";

export const NODE_PREFIX = "mmo:node:";
export const HEARTBEAT_MS = 1000;
export const NODE_TTL_MS = 3000;

export interface NodeInfo {
  name: string;
  startedAt: number;
}

export class Membership {
  private live: string[] = [];
  /** The Redis server's run id: a new one means Redis restarted (maybe empty) since the last beat. */
  private runId: string | undefined;

  constructor(
    private readonly redis: Commands,
    readonly info: NodeInfo,
  ) {}

  /** The live nodes' names as last seen, sorted; this node's among them. */
  get nodes(): string[] {
    return this.live;
  }

  /** Claims the name: false when a live node holds it. */
  async claim(): Promise<boolean> {
    const ok = await this.redis.send("SET", [this.key, JSON.stringify(this.info), "PX", String(NODE_TTL_MS), "NX"]);
    if (ok !== "OK") return false;
    await this.beat();
    return true;
  }

  /**
   * One heartbeat: renews this node's key (re-creating it after a Redis restart) and reads the others;
   * true when Redis has restarted since the last beat.
   */
  async beat(): Promise<boolean> {
    await this.redis.send("SET", [this.key, JSON.stringify(this.info), "PX", String(NODE_TTL_MS)]);
    await this.refresh();
    const runId = /run_id:(\w+)/.exec(String(await this.redis.send("INFO", ["server"])))?.[1];
    const restarted = this.runId !== undefined && runId !== this.runId;
    this.runId = runId;
    return restarted;
  }

  async leave(): Promise<void> {
    await this.redis.send("DEL", [this.key]);
  }

  private get key(): string {
    return NODE_PREFIX + this.info.name;
  }

  private async refresh(): Promise<void> {
    const names: string[] = [];
    let cursor = "0";
    do {
      const [next, keys] = (await this.redis.send("SCAN", [cursor, "MATCH", `${NODE_PREFIX}*`, "COUNT", "1000"])) as [string, string[]];
      cursor = next;
      for (const key of keys) names.push(key.slice(NODE_PREFIX.length));
    } while (cursor !== "0");
    this.live = [...new Set(names)].sort();
  }
}
