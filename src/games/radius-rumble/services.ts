// What the states share across every client of one server.
import type { World } from "./world.ts";
import type { Stats } from "../../hub/stats.ts";
import type { LoginThrottle, Sessions } from "../../accounts/rules.ts";
import type { Store } from "../../store/store.ts";

export interface Services {
  store: Store;
  stats: Stats;
  throttle: LoginThrottle;
  sessions: Sessions;
  world: World;
  /** Milliseconds; injectable so rule tests need not sleep. */
  now(): number;
}
