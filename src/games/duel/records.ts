// A duelist's record: wins, losses and draws, one storage object per account, changed by a
// conditional write (read its version, write "only if still that version", again on a conflict), so
// two matches of one player finishing at once, on one node or two, both count. Winners also climb the
// "wins" leaderboard.
import type { Collection } from "../../store/storage.ts";

export const RECORDS = "duel_records";
export const RECORD_KEY = "record";
export const WINS_BOARD = "wins";
/** Conflicts in a row before a result is given up (and logged): far more than two matches at once cause. */
const MAX_ATTEMPTS = 20;

export interface DuelRecord {
  wins: number;
  losses: number;
  draws: number;
}

export type Outcome = "win" | "loss" | "draw";

export const EMPTY_RECORD: DuelRecord = { wins: 0, losses: 0, draws: 0 };

/** Adds one result to the owner's record; resolves to the record as written. Rejects if the database fails or the record stays contended. */
export async function addResult(records: Collection<DuelRecord>, owner: number, outcome: Outcome): Promise<DuelRecord> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const found = await records.get(RECORD_KEY, owner);
    const record = { ...EMPTY_RECORD, ...found?.value };
    if (outcome === "win") record.wins++;
    else if (outcome === "loss") record.losses++;
    else record.draws++;
    const result = await records.put(RECORD_KEY, record, found ? { owner, ifVersion: found.version } : { owner, ifAbsent: true });
    if (result.ok) return record;
    if (result.reason !== "conflict") throw new Error(`the record of account ${owner} was not saved: ${result.reason}${"message" in result ? ` (${result.message})` : ""}`);
  }
  throw new Error(`the record of account ${owner} was contended ${MAX_ATTEMPTS} times in a row`);
}
