// The in-memory hiscore board against the obvious model (sort everyone, count): the same positions and
// boards through thousands of random registrations and score raises, and names folded as SQL folds them.
import { describe, expect, test } from "bun:test";
import { seededRandom } from "../src/rooms/random.ts";
import { foldName, Ranking, type RankedScore as PlayerScore } from "../src/store/ranking.ts";


/** The board as a database computes it: sort everything. */
function modelBoard(players: Map<number, PlayerScore>): PlayerScore[] {
  return [...players.values()].sort((a, b) => b.score - a.score || a.id - b.id);
}

function modelRank(players: Map<number, PlayerScore>, name: string): number | undefined {
  const board = modelBoard(players);
  const holder = [...players.values()].filter((p) => foldName(p.name) === foldName(name)).sort((a, b) => a.id - b.id)[0];
  return holder && board.indexOf(holder) + 1;
}

describe("ranking", () => {
  test("positions, boards and name searches match the model through random registrations, raises, renames and removals", () => {
    const random = seededRandom(7);
    const players = new Map<number, PlayerScore>();
    // Start from a bulk load, as at start-up, then play.
    for (let id = 1; id <= 300; id++) players.set(id, { id, name: `P${id}`, score: Math.floor(random() * 50) });
    const ranking = Ranking.of([...players.values()].map((p) => ({ ...p })));
    let nextId = 301;
    for (let step = 0; step < 3000; step++) {
      const roll = random();
      if (roll < 0.2) {
        const id = nextId++;
        players.set(id, { id, name: `P${id}`, score: 0 });
        ranking.add({ id, name: `P${id}`, score: 0 });
      } else if (roll < 0.3) {
        // A display name changed, often to a name another player has (or had).
        const player = players.get(1 + Math.floor(random() * (nextId - 1)));
        if (!player) continue;
        player.name = `P${1 + Math.floor(random() * (nextId - 1))}`;
        ranking.set({ ...player });
      } else if (roll < 0.33) {
        // An operator removed a record.
        const id = 1 + Math.floor(random() * (nextId - 1));
        expect(ranking.remove(id)).toBe(players.delete(id));
      } else {
        const id = 1 + Math.floor(random() * (nextId - 1));
        const score = Math.floor(random() * 60);
        const player = players.get(id);
        if (!player) continue;
        player.score = Math.max(player.score, score); // best scores never go down
        ranking.raise(id, score);
      }
      if (step % 100 === 0) {
        const board = modelBoard(players);
        expect(ranking.count).toBe(board.length);
        const offset = Math.floor(random() * board.length);
        expect(ranking.board(offset, 10)).toEqual(board.slice(offset, offset + 10).map((p, i) => ({ rank: offset + i + 1, id: p.id, name: p.name, score: p.score })));
        for (let i = 0; i < 20; i++) {
          const name = `p${1 + Math.floor(random() * (nextId - 1))}`;
          expect(ranking.rankOf(name)).toBe(modelRank(players, name));
        }
      }
    }
    expect(ranking.board(0, nextId).map((e) => e.rank)).toEqual(Array.from({ length: players.size }, (_, i) => i + 1));
    expect(players.size).toBeLessThan(nextId - 1);
  });

  test("names fold ASCII letters only; of several players with one folded name, the oldest is found; % and _ are plain", () => {
    const ranking = Ranking.of([
      { id: 5, name: "Émile", score: 10 },
      { id: 3, name: "twin", score: 1 },
      { id: 2, name: "TWIN", score: 5 },
      { id: 4, name: "a_b", score: 7 },
    ]);
    expect(ranking.rankOf("ÉMILE")).toBe(1);
    expect(ranking.rankOf("émile")).toBeUndefined();
    expect(ranking.rankOf("Twin")).toBe(3); // id 2 (score 5), not id 3
    expect(ranking.rankOf("A_B")).toBe(2);
    expect(ranking.rankOf("a%b")).toBeUndefined();
    expect(ranking.rankOf("axb")).toBeUndefined();
  });

  test("a raise to a lower or equal score changes nothing; an unknown player is ignored", () => {
    const ranking = Ranking.of([
      { id: 1, name: "a", score: 10 },
      { id: 2, name: "b", score: 20 },
    ]);
    ranking.raise(2, 5);
    ranking.raise(1, 10);
    ranking.raise(99, 1000);
    expect(ranking.board(0, 10)).toEqual([
      { rank: 1, id: 2, name: "b", score: 20 },
      { rank: 2, id: 1, name: "a", score: 10 },
    ]);
    ranking.raise(1, 20); // ties go to the older player
    expect(ranking.board(0, 1)[0]!.name).toBe("a");
    expect(ranking.board(5, 10)).toEqual([]);
  });

  test("set moves a record up or down; ascending boards put the lowest first; ranks by owner", () => {
    for (const order of ["desc", "asc"] as const) {
      const random = seededRandom(order === "desc" ? 3 : 4);
      const sign = order === "desc" ? 1 : -1;
      const scores = new Map<number, number>();
      const ranking = new Ranking(order);
      for (let step = 0; step < 2000; step++) {
        const id = 1 + Math.floor(random() * 200);
        const score = Math.floor(random() * 100) - 50;
        scores.set(id, score);
        ranking.set({ id, name: `P${id}`, score });
        if (step % 50 === 0) {
          const model = [...scores].sort(([a, x], [b, y]) => sign * (y - x) || a - b);
          expect(ranking.board(0, model.length).map((e) => [e.id, e.score])).toEqual(model);
          const probe = model[Math.floor(random() * model.length)]!;
          expect(ranking.rankOfId(probe[0])).toBe(model.indexOf(probe) + 1);
          expect(ranking.scoreOf(probe[0])).toBe(probe[1]);
        }
      }
      expect(ranking.rankOfId(999)).toBeUndefined();
    }
  });
});
