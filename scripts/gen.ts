// Regenerates the protobuf codecs under src/packets/generated from proto/packets.proto.
// buf (the compiler) and ts-proto (the plugin) both come from npm, so nothing is needed from apt.
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const bin = join(root, "node_modules", ".bin");

const proc = Bun.spawnSync(["buf", "generate", "--template", "proto/buf.gen.yaml", "proto"], {
  cwd: root,
  env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
  stdout: "inherit",
  stderr: "inherit",
});
if (proc.exitCode !== 0) {
  console.error(`buf generate failed with exit code ${proc.exitCode}`);
  process.exit(proc.exitCode ?? 1);
}
console.log("generated src/packets/generated/packets.generated.ts from proto/packets.proto");
