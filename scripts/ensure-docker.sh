#!/bin/sh
# Makes sure a Docker engine answers, for the docker backend and its tests.
#   - installs docker.io (the engine, dockerd, with its own client) when no engine answers and
#     no dockerd is installed, whatever docker client is on PATH: a lone client (say a
#     /usr/local/bin/docker) runs no container;
#   - installs iptables, iproute2 and libfaketime when absent (the base image is assembled from
#     these host files); installing needs root and apt-get;
#   - when no engine answers (at DOCKER_HOST, else the default socket), starts dockerd in
#     the background and waits for it;
#   - checks the engine with every docker client it knows (the one on PATH, then the packaged
#     /usr/bin/docker) and says which one talks to it: a client of another version on PATH may
#     not, and then the packaged one is the one to use (the one that answered is written to
#     $FAULTLINE_DOCKER_STATE/docker-client);
#   - records what it started in $FAULTLINE_DOCKER_STATE (default /tmp/faultline-docker),
#     so that scripts/stop-docker.sh stops that and nothing else.
# Exit 0 when an engine answers at the end; otherwise non-zero with a message saying why.
set -eu

STATE_DIR=${FAULTLINE_DOCKER_STATE:-/tmp/faultline-docker}
WAIT_SECONDS=${FAULTLINE_DOCKER_WAIT:-60}

say() { printf 'ensure-docker: %s\n' "$*"; }
is_root() { [ "$(id -u)" = 0 ]; }
# The path of program $1: on PATH, else in the sbin/bin folders a non-root PATH may lack.
find_program() {
  command -v "$1" 2>/dev/null && return 0
  for d in /usr/sbin /usr/bin /sbin /bin; do
    [ -x "$d/$1" ] && { echo "$d/$1"; return 0; }
  done
  return 1
}
# Every docker client there is, the one on PATH first, one a line.
docker_clients() {
  { command -v docker 2>/dev/null || true; [ -x /usr/bin/docker ] && echo /usr/bin/docker; } |
    awk '!seen[$0]++'
}
# The first client that gets an answer from the engine (its path), or nothing and status 1.
answering_client() {
  for c in $(docker_clients); do
    "$c" version --format '{{.Server.Version}}' >/dev/null 2>&1 && { echo "$c"; return 0; }
  done
  return 1
}
engine_answers() { answering_client >/dev/null; }
# "engine X, client PATH Y", and a warning when the docker on PATH cannot talk to the engine.
describe_engine() {
  client=$(answering_client) || return 1
  say "engine $("$client" version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null) answers; client $client $("$client" version --format '{{.Client.Version}}' 2>/dev/null)"
  on_path=$(command -v docker 2>/dev/null || true)
  if [ -n "$on_path" ] && [ "$on_path" != "$client" ]; then
    why=$("$on_path" version 2>&1 | grep -i -m1 -e error -e 'cannot' -e 'too ' || true)
    say "warning: the docker on PATH ($on_path, $("$on_path" --version 2>/dev/null)) cannot talk to this engine${why:+: $why}; use $client"
  fi
  mkdir -p "$STATE_DIR" && echo "$client" >"$STATE_DIR/docker-client"
}
faketime_present() {
  for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
    [ -e "$f" ] && return 0
  done
  return 1
}

missing=''
# The engine, not a client: look for dockerd (unless some engine already answers).
engine_answers || find_program dockerd >/dev/null || missing="$missing docker.io"
find_program xtables-nft-multi >/dev/null || missing="$missing iptables"
find_program tc >/dev/null || missing="$missing iproute2"
faketime_present || missing="$missing libfaketime"

if [ -n "$missing" ]; then
  if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
    say "missing:$missing; install them (Debian/Ubuntu: sudo apt-get install -y$missing) and rerun"
    exit 1
  fi
  say "installing:$missing"
  started_at=$(date +%s)
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  apt-get install -y --no-install-recommends $missing >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends $missing >/dev/null; }
  say "installed:$missing in $(($(date +%s) - started_at))s"
fi

if engine_answers; then
  describe_engine
  say 'nothing started'
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
dockerd=$(find_program dockerd) || { say 'dockerd is not installed (apt-get install -y docker.io)'; exit 1; }

socket=${DOCKER_HOST:-unix:///var/run/docker.sock}
mkdir -p "$STATE_DIR"
say "starting dockerd on $socket (log: $STATE_DIR/dockerd.log)"
# Its own session: it outlives this script and no terminal signal reaches it.
setsid "$dockerd" --host "$socket" >"$STATE_DIR/dockerd.log" 2>&1 </dev/null &
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
describe_engine
