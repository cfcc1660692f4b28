// The ranges of Packet's oneof numbers, as packets.proto declares them in comments of the form
// `// range 20-28: Duel`: who owns which numbers, so that two games (or a game and the framework) never
// pick the same one. `bun run gen` refuses a declaration that overlaps another and a case outside every
// range.

export interface NumberRange {
  from: number;
  to: number;
  owner: string;
}

const DECLARATION = /^\s*\/\/\s*range (\d+)-(\d+): (.+?)\s*$/gm;

/** The ranges the .proto's text declares, in order. */
export function declaredRanges(protoText: string): NumberRange[] {
  return [...protoText.matchAll(DECLARATION)].map((m) => ({ from: Number(m[1]), to: Number(m[2]), owner: m[3]! }));
}

/**
 * The problems of the declarations and of the cases' numbers against them, in words (none: all is
 * well): an empty or reversed range, two ranges that overlap, a case in no range.
 */
export function rangeProblems(ranges: NumberRange[], cases: { name: string; number: number }[]): string[] {
  const problems: string[] = [];
  if (ranges.length === 0) problems.push('packets.proto declares no range of Packet\'s numbers (a comment such as "// range 20-28: Duel")');
  for (const r of ranges) if (r.from > r.to) problems.push(`the range ${r.from}-${r.to} (${r.owner}) ends before it starts`);
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [a, b] = [ranges[i]!, ranges[j]!];
      if (a.from <= b.to && b.from <= a.to) problems.push(`the ranges ${a.from}-${a.to} (${a.owner}) and ${b.from}-${b.to} (${b.owner}) overlap`);
    }
  }
  for (const c of cases) {
    if (!ranges.some((r) => r.from <= c.number && c.number <= r.to)) problems.push(`the case ${c.name} (${c.number}) is in no declared range: declare the game's range, or number it inside one`);
  }
  return problems;
}
