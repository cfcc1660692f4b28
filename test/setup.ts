// Preloaded before every test file (bunfig.toml): what the whole run shares is stopped once at its end.
import { afterAll } from "bun:test";
import { stopTestPostgres } from "./helpers.ts";

// Every cluster node the suites start (in this process or as a child, which inherits it) signs its
// bus with this secret; a test that needs none clears it for its own process.
process.env.MMO_CLUSTER_SECRET ??= "the test suites' cluster secret";

afterAll(stopTestPostgres);
