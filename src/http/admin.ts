// The admin API (JSON over HTTP, behind the admin token like /metrics): find a player, kick, ban and
// unban, read the audit log. docs/deploy.md lists every endpoint with an example. Bad input gets a
// 400 with the reason, an unknown player a 404; nothing is changed by a refused request.
import { MAX_OPERATOR_REASON_BYTES, type Moderation } from "../accounts/moderation.ts";
import type { Leaderboards } from "../store/leaderboards.ts";
import { StorageRefError, type Storage } from "../store/storage.ts";
import type { Store } from "../store/store.ts";

/** The fixed errors of the admin API (the `error` of its JSON answers). */
export const AdminError = {
  notJson: "The body must be a JSON object",
  userId: "userId must be a positive integer",
  reason: `reason must be 1 to ${MAX_OPERATOR_REASON_BYTES} bytes of text`,
  until: "until must be an ISO 8601 time in the future, or null for good",
  operator: "operator must be 1 to 64 bytes of text",
  query: "Ask for one of id, name or device",
  limit: "limit must be 1 to 500",
  unknownPlayer: "No such player",
  method: "Use GET to read and POST to act",
  owner: "owner must be 0 (the game's own) or an account's id",
  noObject: "No such object",
  value: "value must be a JSON object",
  ifVersion: "ifVersion must be a version string",
  storageLimit: "limit must be 1 to 1000",
  noBoard: "No such board",
  noRecord: "No such record",
  score: "score must be an integer",
  name: "name must be 1 to 20 bytes of text",
} as const;

/** What a storage write's refusal is over HTTP. */
const WRITE_STATUS = { conflict: 409, quota: 413, invalid: 400, unavailable: 503 } as const;

type Body = Record<string, unknown>;

const json = (body: unknown, status = 200) => Response.json(body, { status });
const refused = (error: string, status = 400) => json({ error }, status);

/** A ban's or mute's end: an ISO 8601 time in the future (ms since the epoch), null or absent for good (0); undefined when it is neither. */
function untilOf(value: unknown): number | undefined {
  if (value === null || value === undefined) return 0;
  const until = typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isFinite(until) && until > Date.now() ? until : undefined;
}

/** A POST's JSON object, or the answer that refuses the request. */
async function bodyOf(req: Request): Promise<Body | Response> {
  if (req.method !== "POST") return refused(AdminError.method, 405);
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    return refused(AdminError.notJson);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return refused(AdminError.notJson);
  const { operator = "admin" } = body as Body;
  if (!isText(operator, 64)) return refused(AdminError.operator);
  return { ...(body as Body), operator };
}

const isText = (value: unknown, max: number): value is string => typeof value === "string" && value.trim().length > 0 && Buffer.byteLength(value) <= max;

/** The admin API's paths, each answering one request (already let through by the admin token). */
export function adminApi(moderation: Moderation, store: Store, storage: Storage, leaderboards: Leaderboards): Record<string, (req: Request) => Promise<Response>> {
  const post = (act: (body: Body, operator: string, userId: number) => Promise<Response>) => async (req: Request) => {
    const body = await bodyOf(req);
    if (body instanceof Response) return body;
    if (!Number.isSafeInteger(body.userId) || (body.userId as number) <= 0) return refused(AdminError.userId);
    return act(body, body.operator as string, body.userId as number);
  };
  /** A put (or a delete) of one object, with the game's version check; audited with the value before and after. */
  const write = async (req: Request, remove: boolean): Promise<Response> => {
    const body = await bodyOf(req);
    if (body instanceof Response) return body;
    const { collection, key, owner = 0, value, ifVersion, operator } = body;
    if (!Number.isSafeInteger(owner) || (owner as number) < 0) return refused(AdminError.owner);
    if (!remove && (typeof value !== "object" || value === null || Array.isArray(value))) return refused(AdminError.value);
    if (ifVersion !== undefined && typeof ifVersion !== "string") return refused(AdminError.ifVersion);
    const ref = { collection: String(collection ?? ""), key: String(key ?? ""), owner: owner as number };
    let before: unknown = null;
    try {
      before = (await storage.read([ref]))[0]?.value ?? null;
    } catch (err) {
      if (err instanceof StorageRefError) return refused(err.message);
      return refused(`The database could not be read: ${err instanceof Error ? err.message : String(err)}`, 503);
    }
    const op = remove ? { ...ref, delete: true as const, ifVersion } : { ...ref, value: value as Record<string, unknown>, ifVersion };
    const result = await storage.write([op]);
    if (!result.ok) return json({ error: result.reason, ...result }, WRITE_STATUS[result.reason]);
    await moderation.audit(operator as string, remove ? "storage-delete" : "storage-put", ref.owner, { ...ref, value: before }, remove ? null : { ...ref, value, version: result.versions[0] });
    return json({ ok: true, version: result.versions[0] ?? null });
  };
  const player = (view: unknown) => (view === undefined ? refused(AdminError.unknownPlayer, 404) : json({ player: view }));
  return {
    "/admin/players": async (req) => {
      if (req.method !== "GET") return refused(AdminError.method, 405);
      const params = new URL(req.url).searchParams;
      const [id, name, device] = [params.get("id"), params.get("name"), params.get("device")];
      if ([id, name, device].filter((v) => v !== null).length !== 1) return refused(AdminError.query);
      if (id !== null && !/^[1-9]\d{0,15}$/.test(id)) return refused(AdminError.userId);
      return json({ players: await moderation.find(id !== null ? { id: Number(id) } : name !== null ? { name } : { device: device! }) });
    },
    "/admin/kick": post(async (body, operator, userId) => {
      if (!isText(body.reason, MAX_OPERATOR_REASON_BYTES)) return refused(AdminError.reason);
      return player(await moderation.kick(operator, userId, body.reason));
    }),
    "/admin/ban": post(async (body, operator, userId) => {
      if (!isText(body.reason, MAX_OPERATOR_REASON_BYTES)) return refused(AdminError.reason);
      const until = untilOf(body.until);
      if (until === undefined) return refused(AdminError.until);
      return player(await moderation.ban(operator, userId, body.reason, until));
    }),
    "/admin/unban": post(async (_body, operator, userId) => player(await moderation.unban(operator, userId))),
    "/admin/mute": post(async (body, operator, userId) => {
      if (!isText(body.reason, MAX_OPERATOR_REASON_BYTES)) return refused(AdminError.reason);
      const until = untilOf(body.until);
      if (until === undefined) return refused(AdminError.until);
      return player(await moderation.mute(operator, userId, body.reason, until));
    }),
    "/admin/unmute": post(async (_body, operator, userId) => player(await moderation.unmute(operator, userId))),
    "/admin/storage": async (req) => {
      if (req.method === "GET") {
        const params = new URL(req.url).searchParams;
        const owner = Number(params.get("owner") ?? "0");
        if (!Number.isSafeInteger(owner) || owner < 0) return refused(AdminError.owner);
        const [collection, key] = [params.get("collection") ?? "", params.get("key")];
        try {
          const limitText = params.get("limit") ?? "100";
          const limit = /^\d{1,4}$/.test(limitText) ? Number(limitText) : 0;
          if (limit < 1 || limit > 1000) return refused(AdminError.storageLimit);
          if (key === null) return json(await storage.list(collection, { owner, cursor: params.get("cursor") ?? undefined, limit }));
          const [object] = await storage.read([{ collection, key, owner }]);
          return object ? json({ object }) : refused(AdminError.noObject, 404);
        } catch (err) {
          if (err instanceof StorageRefError) return refused(err.message);
          throw err;
        }
      }
      return write(req, false);
    },
    "/admin/storage/delete": (req) => write(req, true),
    "/admin/board/record": post(async (body, operator, userId) => {
      const board = leaderboards.get(String(body.board));
      if (!board) return refused(AdminError.noBoard, 404);
      if (!Number.isSafeInteger(body.score)) return refused(AdminError.score);
      if (body.name !== undefined && !isText(body.name, 20)) return refused(AdminError.name);
      const before = board.recordOf(userId) ?? null;
      const name = (body.name as string | undefined) ?? before?.name ?? (await store.findPlayers({ id: userId }))[0]?.name;
      if (name === undefined) return refused(AdminError.unknownPlayer, 404);
      const row = await board.correct(userId, body.score as number, name);
      await moderation.audit(operator, "board-record", userId, before && { board: board.id, ...before }, { board: board.id, name: row.name, score: row.score });
      return json({ record: board.recordOf(userId) });
    }),
    "/admin/board/remove": post(async (body, operator, userId) => {
      const board = leaderboards.get(String(body.board));
      if (!board) return refused(AdminError.noBoard, 404);
      const before = board.recordOf(userId);
      if (!before) return refused(AdminError.noRecord, 404);
      await board.remove(userId);
      await moderation.audit(operator, "board-remove", userId, { board: board.id, ...before }, null);
      return json({ ok: true });
    }),
    "/admin/board/reset": async (req) => {
      const body = await bodyOf(req);
      if (body instanceof Response) return body;
      const board = leaderboards.get(String(body.board));
      if (!board) return refused(AdminError.noBoard, 404);
      const records = board.size;
      await board.remove();
      await moderation.audit(body.operator as string, "board-reset", 0, { board: board.id, records }, { board: board.id, records: 0 });
      return json({ ok: true, removed: records });
    },
    "/admin/audit": async (req) => {
      if (req.method !== "GET") return refused(AdminError.method, 405);
      const limitText = new URL(req.url).searchParams.get("limit") ?? "50";
      const limit = /^\d{1,3}$/.test(limitText) ? Number(limitText) : 0;
      if (limit < 1 || limit > 500) return refused(AdminError.limit);
      const entries = await store.auditLog(limit);
      return json({ entries: entries.map((e) => ({ ...e, atText: new Date(e.at).toISOString(), before: e.before && JSON.parse(e.before), after: e.after && JSON.parse(e.after) })) });
    },
  };
}
