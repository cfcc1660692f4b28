#!/usr/bin/env bash
# What the suites run for real, from Debian's packages: chromium (the dashboard's browser test),
# redis-server (the cluster) and postgresql (the PostgreSQL store; the tests start their own servers).
# Installs what is missing when we may (root, with apt); otherwise says in one line what to install.
# Run by `npm test` (pretest). The Godot kit's suite needs a Godot of your own: GODOT4_BIN=PATH.
set -euo pipefail
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
missing=()
[ -x "$chromium" ] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ensure-services: installing Debian's ${missing[*]} for the tests" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "ensure-services: missing ${missing[*]}: sudo apt-get install ${missing[*]} (their suites are skipped until then; set CHROMIUM_PATH for another Chromium)" >&2
[ -x "$chromium" ] || exit 1
