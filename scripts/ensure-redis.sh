#!/bin/sh
# Makes sure Redis 7 is installed (/usr/bin/redis-server, Debian's redis-server package; and
# redis-sentinel, which Debian ships as a link to redis-check-rdb, i.e. the same program), for
# the `redis` system and its tests (cluster-images/redis/system.ts copies redis-server, with the
# libraries ldd lists, into the node image and runs the sentinel as `redis-server conf --sentinel`).
#   - present: says which version and exits 0;
#   - absent: installs redis-server and redis-sentinel with apt-get (needs root), else says how.
# The package starts a redis (127.0.0.1:6379) and a sentinel (26379) of its own where a service
# manager runs (systemd, or sysvinit through invoke-rc.d): faultline never uses them (its nodes
# run in containers on addresses of their own), but they are stopped here and not left enabled,
# so that nothing on the host answers as "redis" by surprise. Without systemd (a container),
# policy-rc.d stops apt from starting them in the first place.
# Exit 0 when redis-server runs at the end; otherwise non-zero with a message saying why.
set -eu

SERVER=/usr/bin/redis-server
say() { printf 'ensure-redis: %s\n' "$*"; }
version() { "$SERVER" --version 2>/dev/null | sed -n 's/.* v=\([0-9.]*\) .*/\1/p'; }

if [ -x "$SERVER" ] && [ -n "$(version)" ] && [ -e /usr/bin/redis-sentinel ]; then
  say "redis $(version) at $SERVER; nothing installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "redis is missing ($SERVER); install it (Debian/Ubuntu: sudo apt-get install -y redis-server redis-sentinel) and rerun"
  exit 1
fi
say 'installing redis-server redis-sentinel'
started_at=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
# Tell the maintainer scripts not to start services (exit 101: "action forbidden"), unless the
# host already has a policy of its own; removed again afterwards.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=true
fi
cleanup() { if [ "$own_policy" = true ]; then rm -f "$policy"; fi; }
trap cleanup EXIT
apt-get install -y --no-install-recommends redis-server redis-sentinel >/dev/null ||
  { apt-get update >/dev/null && apt-get install -y --no-install-recommends redis-server redis-sentinel >/dev/null; }
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  for unit in redis-server redis-sentinel; do
    systemctl disable --now "$unit" >/dev/null 2>&1 || true
  done
fi
if [ -x "$SERVER" ] && [ -n "$(version)" ]; then
  say "installed redis $(version) at $SERVER in $(($(date +%s) - started_at))s"
  exit 0
fi
say "redis-server was installed but $SERVER does not run"
exit 1
