// The ranges of Packet's numbers that packets.proto declares: the file as it is passes; two games'
// ranges that overlap, or a case outside every range, are refused by name (bun run gen runs the check).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packetCases } from "../src/godot/codecs.ts";
import { declaredRanges, rangeProblems } from "../src/packets/ranges.ts";

const PROTO = readFileSync(join(import.meta.dir, "..", "proto", "packets.proto"), "utf8");

test("packets.proto declares who owns which numbers, and every case is in its owner's range", () => {
  const ranges = declaredRanges(PROTO);
  expect(ranges.map((r) => `${r.from}-${r.to}`)).toEqual(["2-19", "20-28", "100-199"]);
  expect(rangeProblems(ranges, packetCases())).toEqual([]);
});

test("two games that pick the same numbers, or a case in no range, are refused, naming them", () => {
  const withCaves = `${PROTO}\n// range 27-40: Caves\n`;
  expect(rangeProblems(declaredRanges(withCaves), packetCases())).toEqual(["the ranges 20-28 (Duel (src/games/duel)) and 27-40 (Caves) overlap"]);
  const stray = [...packetCases(), { name: "dig", number: 29 }];
  expect(rangeProblems(declaredRanges(PROTO), stray)).toEqual(["the case dig (29) is in no declared range: declare the game's range, or number it inside one"]);
  expect(rangeProblems([], [])).toEqual(['packets.proto declares no range of Packet\'s numbers (a comment such as "// range 20-28: Duel")']);
});
