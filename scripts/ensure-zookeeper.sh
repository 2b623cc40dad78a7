#!/bin/sh
# Installs what the `zookeeper` system needs on this host, unless it is there already: Debian's
# ZooKeeper 3.8 (its jars under /usr/share/java), OpenJDK 17 and the JDK's jlink, jdeps and
# jmods, from which cluster-images/zookeeper/runtime.ts links a trimmed Java runtime for the
# node image. Nothing of ZooKeeper runs on the host itself: Debian's `zookeeper` package has no
# service (that is `zookeeperd`, not installed here); if a host runs one anyway it is left alone,
# as faultline's servers live in containers on addresses of their own.
#   - all present: says which versions, exits 0;
#   - something missing and we are root with apt-get: installs it, exits 0 once it is there;
#   - otherwise: says what to install, exits 1.
set -eu

JDK=/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture 2>/dev/null || echo amd64)
NEEDED="/usr/share/java/zookeeper.jar /usr/share/java/zookeeper-jute.jar /usr/share/java/slf4j-simple.jar $JDK/bin/java $JDK/bin/jlink $JDK/bin/jdeps $JDK/jmods/java.base.jmod"
PACKAGES='zookeeper libslf4j-java openjdk-17-jre-headless openjdk-17-jdk-headless'

say() { printf 'ensure-zookeeper: %s\n' "$*"; }
missing() {
  for f in $NEEDED; do [ -e "$f" ] || printf '%s ' "$f"; done
}
versions() {
  zk=$(dpkg-query -W -f '${Version}' zookeeper 2>/dev/null || echo '?')
  java=$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$JDK/release" 2>/dev/null || echo '?')
  printf 'zookeeper %s, OpenJDK %s (%s)' "$zk" "$java" "$JDK"
}

gone=$(missing)
if [ -z "$gone" ]; then
  say "$(versions); nothing installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "missing: $gone"
  say "install them (Debian 12: sudo apt-get install -y --no-install-recommends $PACKAGES) and rerun"
  exit 1
fi
say "missing: $gone; installing $PACKAGES"
t0=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
# --no-install-recommends: the JRE's recommends pull in desktop libraries the servers never load.
apt-get install -y --no-install-recommends $PACKAGES >/dev/null ||
  { apt-get update >/dev/null && apt-get install -y --no-install-recommends $PACKAGES >/dev/null; }
gone=$(missing)
if [ -n "$gone" ]; then
  say "installed $PACKAGES, yet still missing: $gone"
  exit 1
fi
say "installed $(versions) in $(($(date +%s) - t0))s"
