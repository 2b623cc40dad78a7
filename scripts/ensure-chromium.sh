#!/bin/sh
# Makes sure Debian's Chromium is installed (/usr/bin/chromium, the `chromium` package), for the
# browser tests of the timeline and `faultline serve` (playwright-core drives it; no browser is
# downloaded).
#   - present: says which version and exits 0;
#   - absent: installs chromium with apt-get (needs root), else says how.
# Exit 0 when chromium runs at the end; otherwise non-zero with a message saying why.
set -eu

BROWSER=/usr/bin/chromium
say() { printf 'ensure-chromium: %s\n' "$*"; }
version() { "$BROWSER" --version 2>/dev/null | sed -n 's/^Chromium \([0-9.]*\).*/\1/p'; }

if [ -x "$BROWSER" ] && [ -n "$(version)" ]; then
  say "chromium $(version) at $BROWSER; nothing installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "chromium is missing ($BROWSER); install it (Debian/Ubuntu: sudo apt-get install -y chromium) and rerun"
  exit 1
fi
say 'installing chromium'
started_at=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null ||
  { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null; }
if [ -x "$BROWSER" ] && [ -n "$(version)" ]; then
  say "installed chromium $(version) at $BROWSER in $(($(date +%s) - started_at))s"
  exit 0
fi
say "chromium was installed but $BROWSER does not run"
exit 1
