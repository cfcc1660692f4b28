// A restart that keeps the game (a single server, session resume on): at SIGTERM the rooms'
// snapshots and the sessions that hold a resume token are written to the data folder; at the next
// start they are read back, the rooms restored and the sessions held, so that the clients resume
// into the same rooms, positions and scores. A file of another game or format, or none, means a
// fresh start, said in one line.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { PRIVATE_FILE_MODE, privateFolder } from "../store/private-folder.ts";
import { join } from "node:path";
import type { Accounts } from "../accounts/accounts.ts";
import type { Hub } from "../hub/hub.ts";
import type { Resumption, SessionData } from "../hub/resume.ts";
import { WebSocketClient, type ClientContext } from "../hub/websocket-client.ts";
import { errorText, type Logger } from "../log.ts";
import type { Rooms, SavedRooms } from "../rooms/rooms.ts";
import type { Account } from "../store/store.ts";
import { sessionData } from "./session-data.ts";

export const RESTART_FILE = "restart.json";
/** The file's format; another one is not read. */
/** The packets kept for held sessions that the restart file carries at most, in all (base64 in one JSON string). */
const MAX_KEPT_BYTES = 64 * 1024 * 1024;
/** 2: sessions are saved by their token's key (a hash), never the token. */
const FORMAT = 2;

interface SavedSession extends SessionData {
  account: Account;
  /** Packets kept for it while away, base64. */
  kept: string[];
}

export interface SavedRun {
  format: number;
  game: string;
  savedAt: number;
  highestId: number;
  rooms: SavedRooms;
  sessions: SavedSession[];
}

export interface RestartParts {
  hub: Hub<WebSocketClient>;
  rooms: Rooms;
  accounts: Accounts;
  resumption: Resumption;
  context: ClientContext;
  log: Logger;
}

/** What the last run saved for this game in `dataDir`, or undefined (said in one line either way). */
export function readSavedRun(dataDir: string, game: string, log: Logger): SavedRun | undefined {
  const file = join(dataDir, RESTART_FILE);
  if (!existsSync(file)) {
    log.info("No saved game to restore: starting fresh");
    return undefined;
  }
  let saved: SavedRun;
  try {
    saved = JSON.parse(readFileSync(file, "utf8")) as SavedRun;
  } catch (err) {
    log.warn(`The saved game ${file} cannot be read (${errorText(err)}): starting fresh`);
    rmSync(file, { force: true });
    return undefined;
  }
  rmSync(file, { force: true });
  if (saved.format !== FORMAT || saved.game !== game) {
    log.info(`The saved game ${file} is of ${saved.game !== game ? `the game ${saved.game}` : `format ${saved.format}`}, not this server's: starting fresh`);
    return undefined;
  }
  return saved;
}

/** Puts the saved rooms and sessions back; every session is held until its client resumes or its grace runs out. */
export function restoreRun(saved: SavedRun, parts: RestartParts): void {
  const { hub, rooms, accounts, resumption, context, log } = parts;
  const away = Date.now() - saved.savedAt;
  rooms.restoreAll(saved.rooms);
  let restored = 0;
  for (const session of saved.sessions) {
    const msLeft = session.msLeft - away;
    if (msLeft <= 0) continue;
    let client: WebSocketClient;
    try {
      client = WebSocketClient.detached(context, session.id, session.ip, session.state);
    } catch (err) {
      log.warn(`Client ${session.id} not restored: ${errorText(err)}`);
      continue;
    }
    hub.adopt(client);
    accounts.restoreSession(client, session.account);
    if (session.room) rooms.restoreMember(client, session.room.id, session.room.join, session.room.frames);
    resumption.restoreHeld(client, session.token, session.topics, session.kept.map((b) => Buffer.from(b, "base64")), msLeft);
    restored++;
  }
  log.info(`Restored ${saved.rooms.rooms.length} room(s) and ${restored} session(s) saved ${(away / 1000).toFixed(1)} s ago; their clients may resume`);
}

/** Writes the rooms and the sessions with a token (atomically: a temporary file, then a rename); returns how many sessions. */
export function saveRun(dataDir: string, game: string, parts: RestartParts): number {
  const { hub, rooms, resumption, log } = parts;
  const sessions: SavedSession[] = [];
  let keptBytes = 0;
  let dropped = 0;
  for (const { client, token, msLeft } of resumption.sessions()) {
    const kept = client.session?.held?.kept ?? [];
    const bytes = kept.reduce((sum, b) => sum + b.length, 0);
    // The file is one JSON string in memory: past the bound, a session is not kept (its player logs in again).
    if (keptBytes + bytes > MAX_KEPT_BYTES) {
      dropped++;
      continue;
    }
    keptBytes += bytes;
    const data = sessionData(client, rooms, token, msLeft);
    sessions.push({ ...data, kept: kept.map((b) => Buffer.from(b).toString("base64")) });
  }
  if (dropped > 0) log.warn(`Not keeping ${dropped} session(s): the packets kept for the sessions reached ${MAX_KEPT_BYTES} bytes (they log in again)`);
  const run: SavedRun = { format: FORMAT, game, savedAt: Date.now(), highestId: hub.highestId, rooms: rooms.saveAll(), sessions };
  const file = join(dataDir, RESTART_FILE);
  privateFolder(dataDir);
  writeFileSync(`${file}.tmp`, JSON.stringify(run), { mode: PRIVATE_FILE_MODE });
  renameSync(`${file}.tmp`, file);
  log.info(`Saved ${run.rooms.rooms.length} room(s) and ${sessions.length} session(s) to ${file} for the next start`);
  return sessions.length;
}
