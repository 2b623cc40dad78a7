#!/bin/sh
# Makes sure etcd 3.4 is installed at /usr/bin/etcd, for the `etcd` system and its tests
# (cluster-images/etcd/system.ts copies that binary, with the libraries ldd lists, into the
# node image).
#   - present: says which version and exits 0;
#   - absent: installs Debian's etcd-server package with apt-get (needs root), else says how.
# On a host running systemd the package also enables its own etcd.service (127.0.0.1:2379);
# faultline does not use it: its members run in containers, each on its own address.
# Exit 0 when /usr/bin/etcd runs at the end; otherwise non-zero with a message saying why.
set -eu

ETCD=/usr/bin/etcd
say() { printf 'ensure-etcd: %s\n' "$*"; }
version() { "$ETCD" --version 2>/dev/null | sed -n 's/^etcd Version: //p'; }

if [ -x "$ETCD" ] && [ -n "$(version)" ]; then
  say "etcd $(version) at $ETCD; nothing installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "etcd is missing ($ETCD); install it (Debian/Ubuntu: sudo apt-get install -y etcd-server) and rerun"
  exit 1
fi
say 'installing etcd-server'
started_at=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends etcd-server >/dev/null ||
  { apt-get update >/dev/null && apt-get install -y --no-install-recommends etcd-server >/dev/null; }
if [ -x "$ETCD" ] && [ -n "$(version)" ]; then
  say "installed etcd $(version) at $ETCD in $(($(date +%s) - started_at))s"
  exit 0
fi
say "etcd-server was installed but $ETCD does not run"
exit 1
