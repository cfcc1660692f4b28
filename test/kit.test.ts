// The Godot kit as files (no Godot needed): what packets.proto says of each case's direction decides its
// signals and send helpers, a case without a direction is refused by name, and writing the kit into a
// project touches only the kit's own files.
import { describe, expect, test } from "bun:test";
import { clone } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateCodecs, generateMessages, packetCases, packetsFile, ProtocolError } from "../src/godot/codecs.ts";
import { KIT_DIR, writeKit } from "../src/godot/kit.ts";

describe("directions", () => {
  test("a signal for each case the server sends, a send helper for each the client sends, with the proto's comment as their doc", () => {
    const gd = generateMessages("0", "hash");
    for (const both of ["chat", "disconnect", "spore_consumed", "player_consumed"]) {
      expect(gd).toContain(`signal ${both}_received(`);
      expect(gd).toContain(`func send_${both}(`);
    }
    for (const fromServer of ["id", "player", "ok_response", "world_frame", "resume_token"]) {
      expect(gd).toContain(`signal ${fromServer}_received(`);
      expect(gd).not.toContain(`func send_${fromServer}(`);
    }
    for (const fromClient of ["login_request", "register_request", "player_direction", "world_frames_request", "resume_request"]) {
      expect(gd).toContain(`func send_${fromClient}(`);
      expect(gd).not.toContain(`signal ${fromClient}_received(`);
    }
    expect(gd).toContain("## Sends player_direction (9): in the world, the own player's heading in radians (0 is +x, pi/2 is +y);");
    const cases = packetCases();
    expect(cases.filter((c) => c.direction === "server").length + cases.filter((c) => c.direction === "client").length + cases.filter((c) => c.direction === "both").length).toBe(cases.length);
    expect(cases.find((c) => c.name === "duel_throw")?.direction).toBe("client");
  });

  test("a case whose comment does not begin with its direction is refused, naming it", () => {
    const file = clone(FileDescriptorProtoSchema, packetsFile());
    const packet = file.messageType.findIndex((m) => m.name === "Packet");
    const field = file.messageType[packet]!.field.findIndex((f) => f.name === "match_start");
    const location = file.sourceCodeInfo!.location.find((l) => l.path.join(",") === `4,${packet},2,${field}`)!;
    location.leadingComments = " Duel: the match began.\n";
    expect(() => packetCases(file)).toThrow(ProtocolError);
    expect(() => packetCases(file)).toThrow(/the case match_start \(21\) of Packet needs a comment above it that starts with its direction/);
  });
});

describe("names GDScript cannot take", () => {
  /** packets.proto with one field renamed. */
  function renamed(message: string, field: string, to: string) {
    const file = clone(FileDescriptorProtoSchema, packetsFile());
    file.messageType.find((m) => m.name === message)!.field.find((f) => f.name === field)!.name = to;
    return file;
  }

  test("a field named as a keyword or an Object member, a oneof member whose accessors are Object's, a case named packet: refused, naming it", () => {
    expect(() => generateCodecs("0", "h", renamed("ChatMessage", "msg", "class"))).toThrow("packets.proto: the field class of ChatMessage clashes with a GDScript keyword");
    expect(() => generateCodecs("0", "h", renamed("ChatMessage", "msg", "script"))).toThrow("the field script of ChatMessage");
    expect(() => generateCodecs("0", "h", renamed("Packet", "chat", "meta"))).toThrow("the field meta of Packet (its accessors)");
    expect(() => packetCases(renamed("Packet", "chat", "packet"))).toThrow("a case of Packet may not be named packet");
    expect(() => generateCodecs("0", "h", renamed("Packet", "chat", "class"))).toThrow("the field class of Packet (its accessors)"); // get_class
    // A oneof member may be named as a keyword: it becomes accessors only.
    expect(generateCodecs("0", "h", renamed("Packet", "chat", "match"))).toContain("\tfunc get_match() -> ChatMessage:");
  });
});

describe("writing the kit", () => {
  test("only its own files: the developer's files and the .uid of its scripts stay; a file it no longer writes goes, with its .uid", () => {
    const project = mkdtempSync(join(tmpdir(), "mmo-kit-"));
    try {
      writeFileSync(join(project, "project.godot"), "config_version=5\n");
      const dir = join(project, KIT_DIR);
      const first = writeKit(project);
      expect(first).toContain(join(KIT_DIR, "mmo_world.gd"));
      writeFileSync(join(dir, "mmo_client.gd.uid"), "uid://kept\n");
      writeFileSync(join(dir, "my_notes.txt"), "mine\n");
      // A file an earlier version wrote and this one does not.
      writeFileSync(join(dir, "old_part.gd"), "extends Node\n");
      writeFileSync(join(dir, "old_part.gd.uid"), "uid://old\n");
      const manifest = JSON.parse(readFileSync(join(dir, "kit.json"), "utf8")) as { files: string[] };
      writeFileSync(join(dir, "kit.json"), JSON.stringify({ ...manifest, files: [...manifest.files, "old_part.gd"] }));
      writeKit(project);
      expect(readFileSync(join(dir, "mmo_client.gd.uid"), "utf8")).toBe("uid://kept\n");
      expect(readFileSync(join(dir, "my_notes.txt"), "utf8")).toBe("mine\n");
      expect(existsSync(join(dir, "old_part.gd"))).toBe(false);
      expect(existsSync(join(dir, "old_part.gd.uid"))).toBe(false);
      expect(existsSync(join(dir, "mmo_client.gd"))).toBe(true);
      // kit.json lists only what this run wrote, and never a path outside the folder.
      expect(JSON.parse(readFileSync(join(dir, "kit.json"), "utf8")).files).not.toContain("old_part.gd");
      mkdirSync(join(project, "elsewhere"));
      writeFileSync(join(project, "elsewhere", "x.gd"), "extends Node\n");
      writeFileSync(join(dir, "kit.json"), JSON.stringify({ files: ["../../elsewhere/x.gd"] }));
      writeKit(project);
      expect(existsSync(join(project, "elsewhere", "x.gd"))).toBe(true);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
