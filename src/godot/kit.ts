// `./mmo-server godot PATH`: writes the Godot client kit into the Godot 4 project at PATH, under
// addons/mmo_server/ (replacing what an earlier run wrote there, and nothing else): the codecs and the
// client's signals generated from this server's packets.proto, the client node, and an example scene.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { PROTO_HASH } from "../packets/proto-hash.ts";
import { generateCodecs, generateMessages, ProtocolError } from "./codecs.ts";
import mmoClient from "./kit/mmo_client.gd" with { type: "text" };
import mmoWorld from "./kit/mmo_world.gd" with { type: "text" };
import exampleScript from "./kit/example/example.gd" with { type: "text" };
import exampleScene from "./kit/example/example.tscn" with { type: "text" };
import exampleBlob from "./kit/example/blob.gd" with { type: "text" };

export const KIT_DIR = join("addons", "mmo_server");

export class KitError extends Error {}

/** The kit's files, by their path under addons/mmo_server/. */
export function kitFiles(): Record<string, string> {
  const hash = PROTO_HASH;
  return {
    "packets.gd": generateCodecs(pkg.version, hash),
    "mmo_messages.gd": generateMessages(pkg.version, hash),
    "mmo_client.gd": mmoClient,
    "mmo_world.gd": mmoWorld,
    "example/example.gd": exampleScript,
    "example/example.tscn": exampleScene,
    "example/blob.gd": exampleBlob,
  };
}

const MANIFEST = "kit.json";

/** The files an earlier run wrote, as its kit.json lists them (none when it has no list). */
function earlierFiles(dir: string): string[] {
  try {
    const files = (JSON.parse(readFileSync(join(dir, MANIFEST), "utf8")) as { files?: unknown }).files;
    return Array.isArray(files) ? files.filter((f): f is string => typeof f === "string" && !f.includes("..")) : [];
  } catch {
    return [];
  }
}

/**
 * Writes the kit into the project; returns the paths written (relative to the project). Only the kit's
 * own files are touched: those an earlier run wrote and this one does not are removed (with the .uid
 * Godot 4.4 keeps beside a script), and whatever else is in the folder (the developer's files, the
 * .uid files of the kit's scripts) stays.
 */
export function writeKit(projectPath: string): string[] {
  const project = resolve(projectPath);
  if (!existsSync(join(project, "project.godot"))) throw new KitError(`${project} is not a Godot project (it has no project.godot)`);
  const dir = join(project, KIT_DIR);
  let files: Record<string, string>;
  try {
    files = kitFiles();
  } catch (err) {
    if (err instanceof ProtocolError) throw new KitError(err.message);
    throw err;
  }
  const names = [...Object.keys(files), MANIFEST];
  for (const stale of earlierFiles(dir).filter((f) => !names.includes(f))) {
    rmSync(join(dir, stale), { force: true });
    rmSync(join(dir, `${stale}.uid`), { force: true });
  }
  const written: string[] = [];
  const write = (file: string, text: string) => {
    const path = join(dir, file);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
    written.push(join(KIT_DIR, file));
  };
  for (const [file, text] of Object.entries(files)) write(file, text);
  write(MANIFEST, `${JSON.stringify({ server: "mmo-server", version: pkg.version, protoHash: PROTO_HASH, files: names }, null, 2)}\n`);
  return written;
}
