#!/usr/bin/env bash
# The kit as a new user gets it: a built binary writes it into an empty Godot 4 project, and the
# kit's example scene runs headless in GODOT4_BIN against that binary, to a login and 20 world updates.
# Usage: GODOT4_BIN=PATH scripts/godot-smoke.sh [./mmo-server]
set -euo pipefail
exe=$(realpath "${1:-./mmo-server}")
godot=${GODOT4_BIN:?set GODOT4_BIN to a Godot 4.4+ binary}
dir=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/project" "$dir/home" "$dir/data"
printf 'config_version=5\n\n[application]\nconfig/name="empty"\n' >"$dir/project/project.godot"
"$exe" godot "$dir/project"
"$exe" --port 0 --host 127.0.0.1 --data-dir "$dir/data" >"$dir/server.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(grep -Eo 'Starting server on :[0-9]+' "$dir/server.log" | grep -Eo '[0-9]+$' || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { cat "$dir/server.log"; echo "godot-smoke: the server did not start" >&2; exit 1; }
HOME="$dir/home" timeout 60 "$godot" --headless --path "$dir/project" res://addons/mmo_server/example/example.tscn -- "--url=ws://127.0.0.1:$port/ws" --updates=20 >"$dir/godot.log" 2>&1 || { cat "$dir/godot.log"; echo "godot-smoke: the example scene failed" >&2; exit 1; }
grep -E '^example:' "$dir/godot.log"
grep -q '^example: done after 20 updates' "$dir/godot.log" || { echo "godot-smoke: the example did not reach the world" >&2; exit 1; }
echo "godot-smoke: ok (the kit written by $(basename "$exe") runs its example in $("$godot" --version | head -1))"
