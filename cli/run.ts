import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { BACKENDS, defaultRunDeps, SYSTEMS } from '../api/registries.js';
import { resolveUserValues } from '../api/user-values.js';
import { INVENTORY_ENV } from '../backends/ssh/from-env.js';
import type { Verdict } from '../checker/porcupine/types.js';
import { FILES } from '../harness/results-folder.js';
import {
  anomalySentences,
  availabilityLine,
  convergenceLine,
  failoverLine,
  junitRunError,
  junitXml,
  readRunSummary,
  SUMMARY_FILE,
} from '../harness/run-summary.js';
import type { Progress, RunDeps, RunOutcome } from '../harness/runner.js';
import { RunSetupError, runTest } from '../harness/runner.js';
import type { RunFlags } from '../harness/spec.js';
import {
  loadConfigFile,
  parseSpec,
  resolveSpec,
  SpecError,
  specFromFlags,
} from '../harness/spec.js';
import { WORKLOADS, WorkloadOptionsError } from '../workloads/index.js';
import { catalogue } from './catalogue.js';
import type { RegisterCommand } from './command.js';
import { EXIT, EXIT_CODES_HELP, exitCodeOf } from './exit-codes.js';
import { reportInternalError } from './internal-error.js';
import type { CliIO } from './io.js';
import { processIO } from './io.js';

export interface RunCliFlags extends RunFlags {
  config?: string;
  junit?: string;
}

/** Writes the JUnit report CI asked for (`--junit FILE`): from the run's summary.json when it has one. */
function writeJunit(file: string, name: string, dir: string | undefined, error?: string): void {
  let text: string | undefined;
  if (dir !== undefined) {
    let summary: ReturnType<typeof readRunSummary>;
    try {
      summary = readRunSummary(readFileSync(join(dir, SUMMARY_FILE), 'utf8'));
    } catch {
      summary = undefined;
    }
    if (summary !== undefined) text = junitXml(summary, dir);
  }
  text ??= junitRunError(name, error ?? `no ${SUMMARY_FILE} in ${dir ?? 'the results folder'}`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A Docker image reference: [registry/]name[:tag][@digest]. */
const imageRefSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._/-]*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/i);

function verdictWord(v: Verdict): string {
  return v === true
    ? 'valid'
    : v === false
      ? 'INVALID (anomaly found)'
      : 'unknown (search budget ran out)';
}

function progressLine(p: Progress): string {
  const faults = p.faults === '' ? 'none' : p.faults;
  return (
    `[${p.phase}] ${p.elapsedS.toFixed(1)}/${p.limitS}s  ${Math.round(p.opsPerS)} ops/s  ` +
    `ok ${p.ok}  fail ${p.fail}  info ${p.info}  faults: ${faults}`
  );
}

/** Prints progress: one rewritten line on a terminal, a plain line every few seconds otherwise. */
function progressPrinter(io: CliIO) {
  const tty = io === processIO && process.stdout.isTTY === true;
  let lastPlain = 0;
  let open = false;
  return {
    update(p: Progress) {
      if (tty) {
        process.stdout.write(`\r\x1b[2K${progressLine(p)}`);
        open = true;
      } else if (Date.now() - lastPlain >= 5000 || p.phase === 'done') {
        lastPlain = Date.now();
        io.out(progressLine(p));
      }
    },
    /** Ends the rewritten line before other output. */
    break() {
      if (open) process.stdout.write('\n');
      open = false;
    },
  };
}

const STATUS_WORDS: Record<RunOutcome['status'], string> = {
  complete: 'complete',
  aborted: 'ABORTED (stopped before it finished)',
  crashed: 'CRASHED (stopped on an error)',
  'failed-to-start': 'FAILED TO START',
};

const RUN_VERDICT_WORDS: Record<RunOutcome['verdict'], string> = {
  valid: 'valid',
  invalid: 'INVALID (anomaly found)',
  unknown: 'UNKNOWN (no conclusion: see why below)',
};

/** Prints the outcome: each checker's verdict, each anomaly in a sentence, the folder, how to reproduce. */
export function printOutcome(io: CliIO, r: RunOutcome): void {
  io.out(`status: ${STATUS_WORDS[r.status]}`);
  for (const c of r.checkers) io.out(`${c.name}: ${verdictWord(c.valid)}`);
  const lin = r.results.checkers.linearizability;
  if (lin && lin.valid !== true) {
    const bad = lin.partitions
      .filter((p) => p.valid !== true)
      .map(
        (p) =>
          `${p.key || '(all)'} (${p.valid === false ? 'not linearizable' : (p.reason ?? 'unknown')})`,
      );
    if (bad.length > 0) io.out(`  keys: ${bad.join(', ')}`);
  }
  const anomalies = anomalySentences(r.results);
  if (anomalies.length > 0) {
    io.out('anomalies:');
    for (const a of anomalies) io.out(`  - ${a}`);
  }
  for (const line of [
    convergenceLine(r.results),
    availabilityLine(r.results),
    failoverLine(r.results),
  ]) {
    if (line !== undefined) io.out(line);
  }
  for (const w of r.warnings) io.out(`warning: ${w}`);
  io.out(`verdict: ${RUN_VERDICT_WORDS[r.verdict]}`);
  if (r.verdict === 'unknown') for (const reason of r.reasons) io.out(`  because ${reason}`);
  io.out(`results: ${r.dir}`);
  // Only checkers with something to draw (linearizability) leave a timeline.
  if (existsSync(join(r.dir, FILES.timeline))) io.out(`timeline: ${join(r.dir, FILES.timeline)}`);
  io.out(`reproduce with --seed ${r.seed}`);
}

/**
 * A whole `faultline run` (also used by `demo`): spec from flags and config, seed printed first,
 * progress while running, Ctrl-C / SIGTERM stop cleanly (a second Ctrl-C aborts at once).
 * Resolves to the exit code.
 */
export async function executeRun(
  rawSpec: unknown,
  io: CliIO,
  deps: RunDeps = defaultRunDeps(),
  source?: string,
  junit?: string,
): Promise<number> {
  let spec: ReturnType<typeof resolveSpec>;
  try {
    spec = resolveSpec(parseSpec(rawSpec, source), () => randomInt(0, 2 ** 31 - 1));
  } catch (e) {
    if (e instanceof SpecError) {
      io.err(`faultline run: ${e.message}`);
      if (junit !== undefined) writeJunit(junit, 'run', undefined, e.message);
      return EXIT.usage;
    }
    throw e;
  }
  io.out(`seed: ${spec.seed}`);
  const printer = progressPrinter(io);
  const ctl = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    printer.break();
    if (interrupts === 1) {
      io.err(
        `${sig}: stopping: healing faults and tearing the cluster down (Ctrl-C again to abort at once)`,
      );
      ctl.abort();
    } else {
      io.err(`${sig}: aborting now; run \`faultline clean\` to remove what the run left behind`);
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const outcome = await runTest(spec, deps, {
      signal: ctl.signal,
      onProgress: (p) => printer.update(p),
      log: (line) => {
        if (line.startsWith('warning:')) {
          printer.break();
          io.err(line);
        }
      },
    });
    printer.break();
    printOutcome(io, outcome);
    if (junit !== undefined) {
      writeJunit(junit, spec.name, outcome.dir);
      io.out(`junit: ${junit}`);
    }
    return exitCodeOf(outcome.valid);
  } catch (e) {
    printer.break();
    if (junit !== undefined) writeJunit(junit, spec.name, undefined, (e as Error).message);
    if (e instanceof RunSetupError || e instanceof WorkloadOptionsError || e instanceof SpecError) {
      io.err(`faultline run: ${e.message}`);
      return EXIT.usage;
    }
    return reportInternalError(io, e);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `faultline run` with its flags. */
export const registerRun: RegisterCommand = (program: Command, { io, setExit }) => {
  program
    .command('run')
    .description('run a test: cluster up, workload and faults, heal, final reads, check')
    .option(
      '--config <file>',
      'a test spec file (TS/JS with defineTest, or JSON); flags override it',
    )
    .option('--name <name>', 'test name (names the results folder)')
    .option(
      '--system <name|module>',
      'system under test: a built-in name (default leaderless) or a module exporting defineSystem(...)',
    )
    .option('--backend <name>', 'where the nodes run (default local)')
    .option('--nodes <n>', 'number of nodes (default 5)')
    .option(
      '--max-nodes <n>',
      'nodes in the pool, started only when the membership fault adds one (default: --nodes)',
    )
    .option('--workload <name>', 'the workload, listed below (default register)')
    .option('--workload-opt <key=value>', 'a workload option (repeatable)', collect)
    .option('--nemesis <faults>', 'comma-separated fault kinds, listed below (or none)')
    .option('--nemesis-interval <seconds>', 'mean seconds between fault starts')
    .option(
      '--nemesis-targets <targets>',
      'comma-separated: one,minority,majority,all,leader (leader: whoever leads when the fault starts; systems with a leader hook)',
    )
    .option('--concurrency <n>', 'client workers (default 10)')
    .option('--rate <ops/s>', 'target ops per second across workers (default 200)')
    .option('--time-limit <seconds>', 'length of the main phase (default 30)')
    .option('--recovery <seconds>', 'wait after healing, before the final reads (default 5)')
    .option('--op-timeout <seconds>', 'an op slower than this is recorded as info (default 5)')
    .option('--seed <n>', 'the seed (random when absent; always printed)')
    .option(
      '--system-opt <key=value>',
      'a node setting, passed as --key value (repeatable)',
      collect,
    )
    .option('--out <dir>', 'results root (default results)')
    .option(
      '--junit <file>',
      'also write a JUnit XML report: a test case per checker, failures naming the anomaly',
    )
    .option(
      '--min-ok-ops <n>',
      'ok client ops needed before a run can be called valid (default 10)',
    )
    .option(
      '--min-ok-ops-per-key <n>',
      'ok client ops needed on each key, for workloads checked per key (default 1)',
    )
    .addHelpText(
      'after',
      () =>
        `${catalogue({ systems: SYSTEMS, backends: BACKENDS, workloads: WORKLOADS })}\n\n${EXIT_CODES_HELP}`,
    )
    .option(
      '--base-image <image>',
      'docker backend: layer the system on this image instead of one assembled from host files',
    )
    .option('--inventory <file>', 'ssh backend: the hosts to run on (see backends/ssh/README.md)')
    .action(async (flags: RunCliFlags & { baseImage?: string; inventory?: string }) => {
      if (flags.inventory !== undefined) process.env[INVENTORY_ENV] = flags.inventory;
      if (flags.baseImage !== undefined) {
        const image = imageRefSchema.safeParse(flags.baseImage);
        if (!image.success) {
          io.err(
            `faultline run: --base-image: not an image reference: ${JSON.stringify(flags.baseImage)}`,
          );
          setExit(EXIT.usage);
          return;
        }
        process.env.FAULTLINE_DOCKER_BASE_IMAGE = image.data;
      }
      let raw: unknown;
      let deps = defaultRunDeps();
      try {
        let base: unknown = {};
        if (flags.config !== undefined) {
          // A config may carry its system and workload as values: they join the registries.
          const fromConfig = await resolveUserValues(
            await loadConfigFile(flags.config),
            deps,
            flags.config,
          );
          base = fromConfig.raw;
          deps = fromConfig.deps;
        }
        // --system ./my-system.ts: a module whose default export is a defineSystem value.
        const merged = await resolveUserValues(specFromFlags(flags, base), deps);
        raw = merged.raw;
        deps = merged.deps;
      } catch (e) {
        io.err(`faultline run: ${(e as Error).message}`);
        if (flags.junit !== undefined) {
          writeJunit(flags.junit, flags.name ?? 'run', undefined, (e as Error).message);
        }
        setExit(EXIT.usage);
        return;
      }
      const code = await executeRun(raw, io, deps, flags.config, flags.junit);
      setExit(code);
    });
};
