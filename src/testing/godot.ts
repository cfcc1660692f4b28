// The testkit's Godot: a headless Godot 4 (GODOT4_BIN) running a project the test makes, with the
// kit written into it as `./mmo-server godot PATH` writes it, and the test's own scripts beside it.
// The test reads what the scripts print, line by line, as they print it.
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { KIT_DIR, writeKit } from "../godot/kit.ts";

/** Why Godot tests cannot run here, or undefined. */
export function godotUnavailable(): string | undefined {
  const bin = process.env.GODOT4_BIN;
  if (!bin) return "GODOT4_BIN is not set (run them with your Godot 4.4+: GODOT4_BIN=$(which godot) npm test)";
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    return `GODOT4_BIN=${bin} is not an executable`;
  }
  return undefined;
}

/**
 * The class_name registry Godot's editor writes when it scans a project (this headless Godot only
 * reads it): every `class_name` among the scripts written, so that MmoPackets, MmoClient and MmoWorld
 * are global names, as in the developer's editor.
 */
function writeClassCache(project: string, files: string[]): void {
  const entries: string[] = [];
  for (const file of files.filter((f) => f.endsWith(".gd"))) {
    const text = readFileSync(join(project, file), "utf8");
    const name = text.match(/^class_name (\w+)/m)?.[1];
    if (!name) continue;
    const base = text.match(/^extends (\w+)/m)?.[1] ?? "Node";
    entries.push(`{\n"base": &"${base}",\n"class": &"${name}",\n"icon": "",\n"is_abstract": false,\n"is_tool": false,\n"language": &"GDScript",\n"path": "res://${file}"\n}`);
  }
  mkdirSync(join(project, ".godot"), { recursive: true });
  writeFileSync(join(project, ".godot", "global_script_class_cache.cfg"), `list=[${entries.join(", ")}]\n`);
}

export class GodotRun {
  readonly lines: string[] = [];
  readonly exited: Promise<number>;
  private waiters: (() => void)[] = [];
  private done = false;

  constructor(private readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">) {
    const read = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      let partial = "";
      for await (const chunk of stream) {
        const text = partial + decoder.decode(chunk, { stream: true });
        const parts = text.split("\n");
        partial = parts.pop()!;
        this.lines.push(...parts);
        for (const wake of this.waiters.splice(0)) wake();
      }
    };
    const reading = Promise.all([read(proc.stdout), read(proc.stderr)]);
    this.exited = (async () => {
      const code = await proc.exited;
      await reading;
      this.done = true;
      for (const wake of this.waiters.splice(0)) wake();
      return code;
    })();
  }

  /** The first line matching `pattern` (from the start), or an error after `timeoutMs` (with what Godot printed). */
  async line(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find((l) => pattern.test(l));
      if (found !== undefined) return found;
      if (this.done) throw new Error(`Godot exited without printing ${pattern}:\n${this.lines.join("\n")}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`Godot did not print ${pattern} within ${timeoutMs} ms:\n${this.lines.join("\n")}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  kill(): void {
    this.proc.kill("SIGKILL");
  }
}

export class GodotProject {
  private constructor(readonly path: string) {}

  /** A project with the kit and `files` (paths under res://); `main` (a script path) becomes the main scene. */
  static create(files: Record<string, string>, main: string): GodotProject {
    const path = mkdtempSync(join(tmpdir(), "mmo-godot-"));
    // As a developer sets it up (docs/godot.md): the client as the autoload `Mmo`.
    writeFileSync(
      join(path, "project.godot"),
      `config_version=5\n\n[application]\nconfig/name="mmo-server test"\nrun/main_scene="res://main.tscn"\n\n[autoload]\nMmo="*res://${KIT_DIR}/mmo_client.gd"\n`,
    );
    const written = writeKit(path);
    writeClassCache(path, written);
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(dirname(join(path, file)), { recursive: true });
      writeFileSync(join(path, file), text);
    }
    writeFileSync(
      join(path, "main.tscn"),
      `[gd_scene load_steps=2 format=3]\n\n[ext_resource type="Script" path="res://${main}" id="1_main"]\n\n[node name="Main" type="Node"]\nscript = ExtResource("1_main")\n`,
    );
    mkdirSync(join(path, ".home"), { recursive: true });
    return new GodotProject(path);
  }

  /** Runs the main scene headless with `args` after `--` (OS.get_cmdline_user_args()). */
  run(args: string[] = [], scene?: string): GodotRun {
    const command = [process.env.GODOT4_BIN!, "--headless", "--path", this.path, ...(scene ? [scene] : []), "--", ...args];
    const proc = Bun.spawn(command, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, HOME: join(this.path, ".home") } });
    return new GodotRun(proc);
  }

  destroy(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
