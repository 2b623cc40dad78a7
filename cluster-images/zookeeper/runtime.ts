import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What a ZooKeeper node image holds besides faultline's base: a Java runtime and ZooKeeper's
 * jars, all from the host's Debian packages (`sh scripts/ensure-zookeeper.sh`).
 *
 * The runtime is trimmed when the host can (jlink over the JDK's jmods, with the modules jdeps
 * finds in the jars below: about 36 MB instead of the 260 MB JDK) and kept in a cache folder
 * beside the docker backend's own (`os.tmpdir()/faultline/`), named by a digest of its inputs,
 * so it is built once per JDK and jar set. Without jmods the whole JDK folder is copied.
 */

const DEB_ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';
const MULTIARCH = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';

/** Debian 12's default JDK (OpenJDK 17): ZooKeeper 3.8 supports Java 8 to 17. */
export const JDK_HOME = `/usr/lib/jvm/java-17-openjdk-${DEB_ARCH}`;
const JMODS = join(JDK_HOME, 'jmods');

/** Where the runtime sits in the image (trimmed or whole). */
export const IMAGE_JAVA_HOME = '/opt/zookeeper/java';

/** ZooKeeper's server jar (Debian's libzookeeper-java). */
export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';

/**
 * The jars the server loads, at the paths the image keeps (zookeeper.jar's manifest names its
 * dependencies by these absolute paths, so Debian's start script puts only zookeeper.jar on the
 * class path). Of the manifest's list, those a quorum server with the admin server off and the
 * NIO connection factory loads: Jetty (admin server), Netty (its connection factory), Jackson
 * (the admin server's JSON) and JLine (the CLI) stay out. Plus slf4j-simple, which the
 * manifest lacks: without a binding slf4j discards every log line.
 */
export const ZOOKEEPER_JARS = [
  ZOOKEEPER_JAR,
  '/usr/share/java/zookeeper-jute.jar',
  '/usr/share/java/slf4j-api.jar',
  '/usr/share/java/slf4j-simple.jar',
  '/usr/share/java/commons-cli.jar',
  '/usr/share/java/commons-io.jar',
  '/usr/share/java/metrics-core.jar',
  '/usr/share/java/snappy-java.jar',
  '/usr/share/java/findbugs-annotations.jar',
] as const;

/** The class path of the launch: zookeeper.jar pulls the rest in through its manifest. */
export const CLASS_PATH = [ZOOKEEPER_JAR, '/usr/share/java/slf4j-simple.jar'].join(':');

/** libzip.so loads zlib; the base image has the other libraries the JVM needs (node's). */
const SYSTEM_LIBRARIES = ['libz.so.1'];

/** The host path of each library the runtime needs beyond the base image (to copy with ldd). */
export function systemLibraries(): string[] {
  return SYSTEM_LIBRARIES.map(
    (name) =>
      [`/lib/${MULTIARCH}/${name}`, `/usr/lib/${MULTIARCH}/${name}`, `/usr/lib64/${name}`].find(
        (p) => existsSync(p),
      ) ?? `/lib/${MULTIARCH}/${name}`,
  );
}

/** Whether this host can trim the runtime (jlink and the jmods of the JDK). */
export const canTrim = () => existsSync(join(JMODS, 'java.base.jmod'));

const JLINK_OPTIONS = ['--strip-debug', '--no-header-files', '--no-man-pages', '--compress=2'];

/** The cache folder of the trimmed runtime, named by the JDK release and the jars it serves. */
export function trimmedRuntimeDir(): string {
  const h = createHash('sha256').update('faultline-zookeeper-runtime/1');
  const release = join(JDK_HOME, 'release');
  h.update(existsSync(release) ? readFileSync(release) : 'no-release');
  for (const jar of ZOOKEEPER_JARS) {
    const st = existsSync(jar) ? statSync(jar) : undefined;
    h.update(`\0${jar}:${st?.size ?? -1}:${Math.trunc(st?.mtimeMs ?? 0)}`);
  }
  h.update(JLINK_OPTIONS.join(' '));
  return join(tmpdir(), 'faultline', `zookeeper-java-${h.digest('hex').slice(0, 16)}`);
}

/** The host folder the image's runtime is copied from: the trimmed one when possible. */
export function runtimeSource(): string {
  return canTrim() ? trimmedRuntimeDir() : JDK_HOME;
}

/**
 * Builds the trimmed runtime unless the cache has it: jdeps lists the modules the jars use,
 * jlink links them. Synchronous (a few seconds, once); throws with jlink's message when it fails.
 * `dir` other than the cache's: a cold build elsewhere (the benchmark).
 */
export function ensureTrimmedRuntime(dir = trimmedRuntimeDir()): {
  dir: string;
  built: boolean;
  modules: string[];
} {
  const done = join(dir, 'release');
  if (existsSync(done)) {
    const m = /^MODULES="([^"]*)"/m.exec(readFileSync(done, 'utf8'));
    return { dir, built: false, modules: (m?.[1] ?? '').split(' ').filter(Boolean) };
  }
  const bin = (tool: string) => join(JDK_HOME, 'bin', tool);
  const jars = ZOOKEEPER_JARS.filter((j) => existsSync(j));
  const found = execFileSync(
    bin('jdeps'),
    ['--multi-release', '17', '--ignore-missing-deps', '--print-module-deps', ...jars],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  ).trim();
  // jdk.management: com.sun.management's MXBean, which `mntr` reads file descriptors through.
  const modules = [...new Set([...found.split(','), 'jdk.management'])].filter(Boolean);
  const building = `${dir}.${process.pid}.tmp`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(join(dir, '..'), { recursive: true });
  execFileSync(
    bin('jlink'),
    ['--add-modules', modules.join(','), ...JLINK_OPTIONS, '--output', building],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    renameSync(building, dir);
  } catch (e) {
    // Another process built it at the same time: theirs is as good.
    rmSync(building, { recursive: true, force: true });
    if (!existsSync(done)) throw e;
  }
  return { dir, built: true, modules };
}
