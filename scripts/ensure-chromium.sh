#!/usr/bin/env bash
# The dashboard test drives a real browser: Debian's chromium, through playwright-core. Installs it
# when it is missing and we may (root, with apt); otherwise says how. Run by `npm test` (pretest).
set -euo pipefail
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
[ -x "$chromium" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ensure-chromium: installing Debian's chromium for the browser test" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "ensure-chromium: no Chromium at $chromium; install it (sudo apt-get install chromium) or set CHROMIUM_PATH" >&2
exit 1
