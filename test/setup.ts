// Preloaded before every test file (bunfig.toml): what the whole run shares is stopped once at its end.
import { afterAll } from "bun:test";
import { stopTestPostgres } from "./helpers.ts";

afterAll(stopTestPostgres);
