#!/bin/sh
# Stops the dockerd that scripts/ensure-docker.sh started, and only that one (by its recorded
# pid, checked to still be a dockerd). An engine it did not start is left alone.
set -eu

STATE_DIR=${FAULTLINE_DOCKER_STATE:-/tmp/faultline-docker}
PID_FILE="$STATE_DIR/dockerd.pid"
say() { printf 'stop-docker: %s\n' "$*"; }

if [ ! -f "$PID_FILE" ]; then
  say 'nothing to stop (ensure-docker.sh started no engine)'
  exit 0
fi
pid=$(cat "$PID_FILE")
case "$pid" in '' | *[!0-9]*) say "bad pid file $PID_FILE"; rm -f "$PID_FILE"; exit 1 ;; esac
if ! kill -0 "$pid" 2>/dev/null || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != dockerd ]; then
  say "dockerd $pid is already gone"
  rm -f "$PID_FILE"
  exit 0
fi
kill -TERM "$pid"
waited=0
while kill -0 "$pid" 2>/dev/null; do
  if [ "$waited" -ge 150 ]; then
    say "dockerd $pid did not stop within 30s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    break
  fi
  sleep 0.2
  waited=$((waited + 1))
done
rm -f "$PID_FILE"
say "stopped dockerd $pid"
