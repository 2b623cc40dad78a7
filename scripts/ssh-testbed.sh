#!/bin/sh
# SSH test hosts on this machine, for the ssh backend's tests and benches.
#   scripts/ssh-testbed.sh up N   N hosts h1..hN: each a network namespace with its own sshd
#                                 (Debian openssh-server, installed when missing), a veth on a
#                                 bridge this script owns, an address on a private /24; one
#                                 client key pair and a known_hosts file under the state dir.
#                                 Prints the path of the inventory file (last line of stdout).
#   scripts/ssh-testbed.sh ensure only installs what `up` needs (for CI, before the tests).
#   scripts/ssh-testbed.sh down   removes everything `up` made: the processes in the
#                                 namespaces (sshd and whatever runs there), the namespaces,
#                                 the bridge, its forwarding rule, the state dir.
# All are idempotent. Root only. The hosts share this machine's filesystem and process table;
# only the network is split.
# Several testbeds can be up at once under different names (tests running side by side):
#   FAULTLINE_SSH_TESTBED_NAME    1-5 letters/digits naming its links and namespaces (default tb)
#   FAULTLINE_SSH_TESTBED_STATE   state dir (default /tmp/faultline-ssh-testbed, -NAME when named)
#   FAULTLINE_SSH_TESTBED_NET     first three octets of its /24 (default 10.231.7)
set -eu

NAME=${FAULTLINE_SSH_TESTBED_NAME:-tb}
case "$NAME" in '' | *[!a-z0-9]* | ??????*) echo 'ssh-testbed: FAULTLINE_SSH_TESTBED_NAME: 1-5 of a-z 0-9' >&2; exit 1 ;; esac
if [ "$NAME" = tb ]; then default_state=/tmp/faultline-ssh-testbed; else default_state=/tmp/faultline-ssh-testbed-$NAME; fi
STATE=${FAULTLINE_SSH_TESTBED_STATE:-$default_state}
NET=${FAULTLINE_SSH_TESTBED_NET:-10.231.7}
BRIDGE=fl-${NAME}0
NS_PREFIX=fl-$NAME-
VETH_PREFIX=fl-$NAME-v
FWD_COMMENT=faultline-ssh-testbed-$NAME
MAX_HOSTS=50

say() { printf 'ssh-testbed: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die 'root only (it makes network namespaces and a bridge)'

host_ip() { echo "$NET.$((10 + $1))"; }

# Installs what the testbed needs when absent (Debian packages): sshd, the ssh tools, ip,
# iptables and tc (the faults), libfaketime (clock faults on the hosts).
faketime_present() {
  for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
    [ -e "$f" ] && return 0
  done
  return 1
}
ensure_tools() {
  missing=''
  [ -x /usr/sbin/sshd ] || missing="$missing openssh-server"
  command -v ssh-keygen >/dev/null 2>&1 || missing="$missing openssh-client"
  command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
  command -v iptables >/dev/null 2>&1 || missing="$missing iptables"
  faketime_present || missing="$missing libfaketime"
  [ -z "$missing" ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing:$missing; install them and rerun"
  say "installing:$missing"
  # The package may start the machine's own sshd: stop it then, unless it ran before.
  ran_before=0
  [ -s /run/sshd.pid ] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null && ran_before=1
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends $missing >/dev/null; }
  if [ "$ran_before" = 0 ] && [ -s /run/sshd.pid ]; then
    kill "$(cat /run/sshd.pid)" 2>/dev/null || true
  fi
  say "installed:$missing"
}

# Whether sshd of host $1 runs (by its pid file, checked against its command line).
sshd_alive() {
  pidfile="$STATE/h$1/sshd.pid"
  [ -s "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$STATE/h$1/sshd_config"
}

testbed_up() {
  n=$1
  [ -f "$STATE/hosts" ] || return 1
  [ "$(cat "$STATE/hosts")" = "$n" ] || return 1
  i=1
  while [ "$i" -le "$n" ]; do
    sshd_alive "$i" || return 1
    ip netns list | grep -q "^$NS_PREFIX$i\b" || return 1
    i=$((i + 1))
  done
  ip link show "$BRIDGE" >/dev/null 2>&1
}

down() {
  sshd_pids=$(cat "$STATE"/h*/sshd.pid 2>/dev/null || true)
  # Every process in our namespaces (sshd, nodes of runs, their shells), then the namespaces.
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$NS_PREFIX" || true); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
    ip netns delete "$ns" 2>/dev/null || true
  done
  for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "^$VETH_PREFIX" || true); do
    ip link delete "$l" 2>/dev/null || true
  done
  ip link delete "$BRIDGE" 2>/dev/null || true
  while iptables -w -D FORWARD -i "$BRIDGE" -o "$BRIDGE" -m comment --comment "$FWD_COMMENT" -j ACCEPT 2>/dev/null; do :; done
  rm -rf "$STATE"
  # Namespaces and their links go away asynchronously, and init reaps the killed sshd when it
  # gets to it: wait (a little) until nothing of ours is listed any more.
  tries=0
  while [ "$tries" -lt 50 ]; do
    left=''
    for p in $sshd_pids; do [ -e "/proc/$p" ] && left="$left $p"; done
    ip -o link show 2>/dev/null | grep -q -e ": $VETH_PREFIX" -e ": $BRIDGE:" && left="$left links"
    [ -z "$left" ] && return 0
    tries=$((tries + 1))
    sleep 0.1
  done
  say "still there after 5 s:$left"
}

up() {
  n=$1
  case "$n" in '' | *[!0-9]*) die "up N: N must be a number" ;; esac
  [ "$n" -ge 1 ] && [ "$n" -le "$MAX_HOSTS" ] || die "up N: N from 1 to $MAX_HOSTS"
  if testbed_up "$n"; then
    say "$n hosts already up"
    echo "$STATE/inventory.json"
    return 0
  fi
  ensure_tools
  down
  # Another network on the same /24 would make our addresses ambiguous.
  if ip -o -4 addr show | grep -q " $NET\."; then
    die "$NET.0/24 is in use on this machine; pick another with FAULTLINE_SSH_TESTBED_NET"
  fi
  mkdir -p "$STATE" /run/sshd
  chmod 700 "$STATE"
  ssh-keygen -q -t ed25519 -N '' -C faultline-ssh-testbed -f "$STATE/id_ed25519"
  cp "$STATE/id_ed25519.pub" "$STATE/authorized_keys"
  : >"$STATE/known_hosts"

  ip link add "$BRIDGE" type bridge
  ip addr add "$NET.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # Where bridged traffic goes through iptables (br_netfilter, as Docker sets it up), let ours pass.
  iptables -w -I FORWARD 1 -i "$BRIDGE" -o "$BRIDGE" -m comment --comment "$FWD_COMMENT" -j ACCEPT

  hosts=''
  i=1
  while [ "$i" -le "$n" ]; do
    ns="$NS_PREFIX$i"
    ip=$(host_ip "$i")
    dir="$STATE/h$i"
    mkdir -p "$dir"
    ip netns add "$ns"
    ip link add "$VETH_PREFIX$i" type veth peer name eth0 netns "$ns"
    ip link set "$VETH_PREFIX$i" master "$BRIDGE" up
    ip -n "$ns" addr add "$ip/24" dev eth0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via "$NET.1"
    ssh-keygen -q -t ed25519 -N '' -C "h$i" -f "$dir/host_ed25519"
    cat >"$dir/sshd_config" <<EOF
Port 22
ListenAddress $ip
HostKey $dir/host_ed25519
PidFile $dir/sshd.pid
AuthorizedKeysFile $STATE/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 32
MaxStartups 100:30:200
Subsystem sftp internal-sftp
LogLevel ERROR
EOF
    printf '%s %s\n' "$ip" "$(cut -d' ' -f1,2 "$dir/host_ed25519.pub")" >>"$STATE/known_hosts"
    ip netns exec "$ns" /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
    # The hosts' work dir lives in the state dir, so `down` removes what runs copied there.
    entry=$(printf '{"name":"h%s","address":"%s","port":22,"user":"root","key":"%s","workDir":"%s"}' "$i" "$ip" "$STATE/id_ed25519" "$STATE/work")
    hosts="${hosts:+$hosts,}$entry"
    i=$((i + 1))
  done
  printf '{"knownHosts":"%s","hosts":[%s]}\n' "$STATE/known_hosts" "$hosts" >"$STATE/inventory.json"

  # Each sshd answers before we say so.
  i=1
  while [ "$i" -le "$n" ]; do
    tries=0
    until sshd_alive "$i" && ssh -q -o BatchMode=yes -o ConnectTimeout=2 \
      -o UserKnownHostsFile="$STATE/known_hosts" -o StrictHostKeyChecking=yes \
      -i "$STATE/id_ed25519" "root@$(host_ip "$i")" true 2>/dev/null; do
      tries=$((tries + 1))
      [ "$tries" -lt 50 ] || { cat "$STATE/h$i/sshd.log" >&2 2>/dev/null || true; die "sshd of h$i does not answer"; }
      sleep 0.1
    done
    i=$((i + 1))
  done
  echo "$n" >"$STATE/hosts"
  say "$n hosts up on $NET.0/24 (bridge $BRIDGE)"
  echo "$STATE/inventory.json"
}

case "${1:-}" in
  up) up "${2:-}" ;;
  down) down; say 'down' ;;
  ensure) ensure_tools; say 'tools present' ;;
  *) die 'usage: ssh-testbed.sh up N | down | ensure' ;;
esac
