// Storage objects, as games see them: JSON objects in collections, named by (collection, key, owner),
// each with a version that changes on every write. What a write may ask (absent, version still V) and
// every way it can fail are typed results, never exceptions: a game handles a lost race like any
// other answer. The checks on names and values live here, the same for both stores.

/** A value storage keeps: what JSON can say. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The owner of a game-wide object (one that belongs to no account). */
export const GAME_WIDE = 0;

/** Which object: a collection, a key in it, and its owner (an account's id, or GAME_WIDE; the default). */
export interface ObjectRef {
  collection: string;
  key: string;
  owner?: number;
}

export interface StoredObject<T = Record<string, Json>> {
  collection: string;
  key: string;
  owner: number;
  value: T;
  /** Opaque; a new one on every write. */
  version: string;
  /** Milliseconds since the epoch, of the last write. */
  updatedAt: number;
}

/** Write the object: unconditionally, only if it does not exist, or only if its version is still `ifVersion`. */
export interface PutOp<T = object> extends ObjectRef {
  value: T;
  ifAbsent?: boolean;
  ifVersion?: string;
}

/** Delete the object (a missing one is no error), or only if its version is still `ifVersion`. */
export interface DeleteOp extends ObjectRef {
  delete: true;
  ifVersion?: string;
}

export type WriteOp<T = object> = PutOp<T> | DeleteOp;

export type WriteResult =
  /** Every operation was applied: the new version of each put (undefined for a delete). */
  | { ok: true; versions: (string | undefined)[] }
  /** Operation `index`'s condition failed: nothing was written. `version` is the object's now (undefined: it does not exist). */
  | { ok: false; reason: "conflict"; index: number; object: Required<ObjectRef>; version: string | undefined }
  /** The batch would take an owner past a quota: nothing was written. */
  | { ok: false; reason: "quota"; owner: number; objects: number; bytes: number; maxObjects: number; maxBytes: number }
  /** Operation `index` is not valid (a name, a value not JSON, too large, too deep): nothing was written. */
  | { ok: false; reason: "invalid"; index: number; message: string }
  /** The database could not be reached or failed: nothing was written. */
  | { ok: false; reason: "unavailable"; message: string };

export interface StorageLimits {
  storageMaxValueBytes: number;
  storageMaxObjects: number;
  storageMaxBytes: number;
}

/** How deep a value may nest (objects and arrays). */
export const MAX_DEPTH = 32;
export const MAX_COLLECTION_LENGTH = 64;
export const MAX_KEY_BYTES = 128;
/** Objects a list returns at most, whatever the limit asked. */
export const MAX_LIST_LIMIT = 1000;

const COLLECTION = /^[A-Za-z0-9_.-]+$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** What is wrong with a reference, or undefined. */
export function refProblem({ collection, key, owner = GAME_WIDE }: ObjectRef): string | undefined {
  if (typeof collection !== "string" || !COLLECTION.test(collection) || collection.length > MAX_COLLECTION_LENGTH) {
    return `collection ${JSON.stringify(collection)}: expected 1 to ${MAX_COLLECTION_LENGTH} letters, digits, "_", "." or "-"`;
  }
  if (typeof key !== "string" || key === "" || Buffer.byteLength(key) > MAX_KEY_BYTES || CONTROL.test(key)) {
    return `key ${JSON.stringify(key)}: expected 1 to ${MAX_KEY_BYTES} bytes without control characters`;
  }
  if (!Number.isSafeInteger(owner) || owner < 0) return `owner ${owner}: expected an account id or 0 (game-wide)`;
  return undefined;
}

/** The value as JSON, or what is wrong with it: it must be a plain object of JSON values, not too deep. */
export function encodeValue(value: unknown, maxBytes: number): { json: string; bytes: number } | { problem: string } {
  if (!isPlainObject(value)) return { problem: "the value must be a plain object" };
  const problem = jsonProblem(value, 1, "value");
  if (problem) return { problem };
  const json = JSON.stringify(value);
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) return { problem: `the value is ${bytes} bytes as JSON, over the limit of ${maxBytes}` };
  return { json, bytes };
}

function jsonProblem(value: unknown, depth: number, path: string): string | undefined {
  if (depth > MAX_DEPTH) return `${path}: nested deeper than ${MAX_DEPTH} levels`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = elementProblem(value[i], depth, `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  for (const [name, element] of Object.entries(value as object)) {
    const problem = elementProblem(element, depth, `${path}.${name}`);
    if (problem) return problem;
  }
  return undefined;
}

function elementProblem(element: unknown, depth: number, path: string): string | undefined {
  switch (typeof element) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(element) ? undefined : `${path}: ${element} is not a JSON number`;
    case "object":
      if (element === null) return undefined;
      if (Array.isArray(element) || isPlainObject(element)) return jsonProblem(element, depth + 1, path);
      return `${path}: a ${(element as object).constructor?.name ?? "object"} is not JSON`;
    default:
      return `${path}: a ${typeof element} is not JSON`;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A list's cursor: where the next page starts (after this key). Opaque to games. */
export function encodeCursor(key: string): string {
  return Buffer.from(key).toString("base64url");
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === "") return undefined;
  return Buffer.from(cursor, "base64url").toString();
}
