// The shape of src/ (docs/architecture.md): no module imports itself through others (type imports
// included), and no framework file but the entry point knows a game.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = join(import.meta.dir, "..", "src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "generated" ? [] : sources(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Each file's static imports of other files of src/ (`import` and `export ... from`, types too). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, "utf8");
    const targets = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+\.ts)"/gms)].map((m) => resolve(dirname(file), m[1]!));
    graph.set(relative(SRC, file), targets.map((t) => relative(SRC, t)));
  }
  return graph;
}

test("no import cycle in src/ (type imports included)", () => {
  const graph = importGraph();
  const cycles: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, "visiting");
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "visiting") cycles.push([...path.slice(path.indexOf(next)), next].join(" -> "));
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  expect(graph.size).toBeGreaterThan(50);
  expect(cycles).toEqual([]);
});

test("outside src/games, only the entry point (main.ts) imports a game", () => {
  const knowing = [...importGraph()].filter(([file, targets]) => !file.startsWith("games/") && targets.some((t) => t.startsWith("games/"))).map(([file]) => file);
  expect(knowing).toEqual(["main.ts"]);
});

/** The layers of docs/architecture.md, from the top: a file imports its own layer's or lower ones'. */
const LAYERS: [string, string[]][] = [
  ["the entry point", ["main.ts"]],
  ["the server", ["server/", "http/", "testing/", "godot/"]],
  ["the games", ["games/"]],
  ["the game API", ["rooms/", "accounts/", "players/"]],
  ["the parts", ["world/", "hub/", "store/", "cluster/"]],
  ["the wire", ["packets/"]],
  ["the utilities", ["log.ts", "config.ts", "rate.ts", "url.ts", "addresses.ts"]],
];

test("imports run one way, down the layers of docs/architecture.md (type imports included); every file is in a layer", () => {
  const layer = (file: string) => LAYERS.findIndex(([, prefixes]) => prefixes.some((p) => file === p || file.startsWith(p)));
  const graph = importGraph();
  expect([...graph.keys()].filter((file) => layer(file) < 0)).toEqual([]);
  const upward = [...graph].flatMap(([file, targets]) => targets.filter((t) => layer(t) < layer(file)).map((t) => `${file} (${LAYERS[layer(file)]![0]}) -> ${t} (${LAYERS[layer(t)]![0]})`));
  expect(upward).toEqual([]);
  const doc = readFileSync(join(SRC, "..", "docs", "architecture.md"), "utf8");
  for (const [, prefixes] of LAYERS) for (const p of prefixes) expect(doc).toContain(`src/${p}`);
});
