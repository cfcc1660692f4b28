// `./mmo-server godot PATH`: writes the Godot client kit into the Godot 4 project at PATH, under
// addons/mmo_server/ (replacing what an earlier run wrote there, and nothing else): the codecs and the
// client's signals generated from this server's packets.proto, the client node, and an example scene.
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { PROTO_HASH } from "../packets/proto-hash.ts";
import { generateCodecs, generateMessages } from "./codecs.ts";
import mmoClient from "./kit/mmo_client.gd" with { type: "text" };
import exampleScript from "./kit/example/example.gd" with { type: "text" };
import exampleScene from "./kit/example/example.tscn" with { type: "text" };

export const KIT_DIR = join("addons", "mmo_server");

export class KitError extends Error {}

/** The kit's files, by their path under addons/mmo_server/. */
export function kitFiles(): Record<string, string> {
  const hash = PROTO_HASH;
  return {
    "packets.gd": generateCodecs(pkg.version, hash),
    "mmo_messages.gd": generateMessages(pkg.version, hash),
    "mmo_client.gd": mmoClient,
    "example/example.gd": exampleScript,
    "example/example.tscn": exampleScene,
    "kit.json": `${JSON.stringify({ server: "mmo-server", version: pkg.version, protoHash: hash }, null, 2)}\n`,
  };
}

/** Writes the kit into the project; returns the paths written (relative to the project). */
export function writeKit(projectPath: string): string[] {
  const project = resolve(projectPath);
  if (!existsSync(join(project, "project.godot"))) throw new KitError(`${project} is not a Godot project (it has no project.godot)`);
  const dir = join(project, KIT_DIR);
  rmSync(dir, { recursive: true, force: true });
  const written: string[] = [];
  for (const [file, text] of Object.entries(kitFiles())) {
    const path = join(dir, file);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
    written.push(join(KIT_DIR, file));
  }
  return written;
}
