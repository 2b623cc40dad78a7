#!/bin/sh
# Makes sure a Docker engine answers, for the docker backend and its tests.
#   - installs docker.io, iptables, iproute2 and libfaketime with apt-get when absent
#     (root only; the base image is assembled from these host files);
#   - when no engine answers (at DOCKER_HOST, else the default socket), starts dockerd in
#     the background and waits for it;
#   - records what it started in $FAULTLINE_DOCKER_STATE (default /tmp/faultline-docker),
#     so that scripts/stop-docker.sh stops that and nothing else.
# Exit 0 when an engine answers at the end; otherwise non-zero with a message saying why.
set -eu

STATE_DIR=${FAULTLINE_DOCKER_STATE:-/tmp/faultline-docker}
WAIT_SECONDS=${FAULTLINE_DOCKER_WAIT:-60}

say() { printf 'ensure-docker: %s\n' "$*"; }
engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
is_root() { [ "$(id -u)" = 0 ]; }
faketime_present() {
  for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
    [ -e "$f" ] && return 0
  done
  return 1
}

missing=''
command -v docker >/dev/null 2>&1 || missing="$missing docker.io"
command -v xtables-nft-multi >/dev/null 2>&1 || [ -x /usr/sbin/xtables-nft-multi ] || missing="$missing iptables"
command -v tc >/dev/null 2>&1 || [ -x /usr/sbin/tc ] || missing="$missing iproute2"
faketime_present || missing="$missing libfaketime"

if [ -n "$missing" ]; then
  if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
    say "missing:$missing; install them (Debian/Ubuntu: sudo apt-get install -y$missing) and rerun"
    exit 1
  fi
  say "installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  apt-get install -y --no-install-recommends $missing >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends $missing >/dev/null; }
fi

if engine_answers; then
  say "an engine answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null)); nothing started"
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST#unix://}" = "$DOCKER_HOST" ]; then
  say "DOCKER_HOST=$DOCKER_HOST does not answer, and it is not a local socket this script could serve"
  exit 1
fi
if ! is_root; then
  say 'no engine answers and starting dockerd needs root: run this script with sudo, or start Docker'
  exit 1
fi
command -v dockerd >/dev/null 2>&1 || { say 'dockerd is not installed (apt-get install -y docker.io)'; exit 1; }

socket=${DOCKER_HOST:-unix:///var/run/docker.sock}
mkdir -p "$STATE_DIR"
say "starting dockerd on $socket (log: $STATE_DIR/dockerd.log)"
# Its own session: it outlives this script and no terminal signal reaches it.
setsid dockerd --host "$socket" >"$STATE_DIR/dockerd.log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$STATE_DIR/dockerd.pid"

waited=0
while ! engine_answers; do
  if ! kill -0 "$pid" 2>/dev/null; then
    say "dockerd exited while starting; its log:"
    tail -n 20 "$STATE_DIR/dockerd.log" >&2 || true
    rm -f "$STATE_DIR/dockerd.pid"
    exit 1
  fi
  if [ "$waited" -ge $((WAIT_SECONDS * 5)) ]; then
    say "dockerd (pid $pid) did not answer within ${WAIT_SECONDS}s; see $STATE_DIR/dockerd.log"
    exit 1
  fi
  sleep 0.2
  waited=$((waited + 1))
done
say "dockerd (pid $pid) answers; scripts/stop-docker.sh stops it"
