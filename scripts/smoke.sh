#!/usr/bin/env bash
# Smoke test of a built binary: copied alone into an empty folder, it starts on a free port with each of
# its games, answers a WebSocket client with its id, and exits 0 on SIGTERM.
set -euo pipefail
exe=$(realpath "${1:-./mmo-server}")
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$exe" "$dir/mmo-server"
cd "$dir"
# Each game the binary lists in its --help starts alone in the empty folder and answers a client with its id.
games=$(./mmo-server --help | sed -n '/^Games:$/,$p' | tail -n +2 | awk '{print $1}')
[ -n "$games" ] || { echo "smoke: the binary's --help lists no games" >&2; exit 1; }
for game in $games; do
  ./mmo-server --port 0 --host 127.0.0.1 --game "$game" >server.log 2>&1 &
  pid=$!
  port=""
  for _ in $(seq 1 100); do
    port=$(grep -Eo 'Starting server on :[0-9]+' server.log | grep -Eo '[0-9]+$' || true)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { cat server.log; echo "smoke: the server did not start with --game $game" >&2; exit 1; }
  PORT="$port" bun "$root/scripts/smoke-client.ts"
  kill -TERM "$pid"
  wait "$pid"
  cat server.log
  grep -q "Game $game" server.log || { echo "smoke: the server did not run $game" >&2; exit 1; }
done
echo "smoke: ok ($(echo $games | wc -w) game(s): $(echo $games); $(du -h mmo-server | cut -f1) binary)"
