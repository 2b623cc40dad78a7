import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { isHistoryError } from '../../checker/history/errors.js';
import { combineVerdicts } from '../../checker/linearizability-results.js';
import { HISTORY_MODEL_NAMES } from '../../checker/models/registry.js';
import type { Verdict } from '../../checker/porcupine/types.js';
import type { PartitionResults, Results } from '../../checker/results-schema.js';
import type { CheckTarget, TargetOutcome } from '../check/check-target.js';
import { checkTarget } from '../check/check-target.js';
import { type CheckFlags, HISTORY_FORMATS, quickCheckFlags } from '../check/flags.js';
import { HISTORY_FILE, isDirectory } from '../check/paths.js';
import type { RegisterCommand } from '../command.js';
import { EXIT, exitCodeOf, UsageError } from '../exit-codes.js';
import type { CliIO } from '../io.js';

const verdictText = (v: Verdict): string =>
  v === true ? 'linearizable' : v === false ? 'NOT LINEARIZABLE' : 'UNKNOWN';

/** A folder name per history when several share one --out folder (unique, from the file name). */
function subfolders(args: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return args.map((a) => {
    const base = basename(a.replace(/[/\\]+$/, ''), extname(a)) || 'history';
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}-${n}`;
  });
}

async function targetFor(arg: string, flags: CheckFlags, outDir: string | undefined) {
  const base = {
    arg,
    decideAll: flags.perPartition,
    evidence: !flags.json,
    ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout * 1000 } : {}),
  };
  if (await isDirectory(arg)) {
    // A results folder: its test.json says how its history is checked; flags given override.
    const { readTestCheck } = await import('../check/results-folder.js');
    const check = await readTestCheck(arg);
    const model = flags.model ?? check.model;
    if (!HISTORY_MODEL_NAMES.includes(model)) {
      throw new UsageError(
        `${join(arg, 'test.json')}: field check.model: ${JSON.stringify(model)} is not a linearizability model ` +
          `(faultline check re-checks linearizability only); pass --model NAME, one of ${HISTORY_MODEL_NAMES.join(', ')}`,
      );
    }
    const initial =
      flags.initial !== undefined || 'initial' in check
        ? { value: flags.initial !== undefined ? flags.initial : check.initial }
        : undefined;
    const target: CheckTarget = {
      ...base,
      history: join(arg, HISTORY_FILE),
      format: 'jsonl',
      model,
      partition: flags.partition && (check.partition ?? true),
      outDir: outDir ?? arg,
      ...(initial ? { initial } : {}),
    };
    return target;
  }
  if (flags.model === undefined) {
    throw new UsageError(
      `--model is required to check ${arg}; known models: ${HISTORY_MODEL_NAMES.join(', ')} (transactions: list-append, rw-register)`,
    );
  }
  const target: CheckTarget = {
    ...base,
    history: arg,
    format: flags.format,
    model: flags.model,
    partition: flags.partition,
    ...(flags.initial !== undefined ? { initial: { value: flags.initial } } : {}),
    ...(outDir !== undefined ? { outDir } : {}),
  };
  return target;
}

type PartitionEvidence = NonNullable<PartitionResults['evidence']>;

const short = (s: string, max = 100): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** "after 30 of 65 ops (state 1) none of [p0 #73] write 1 can be placed" (#: history index). */
function evidenceText(ev: PartitionEvidence, operations: number): string {
  const ops = ev.stuck
    .slice(0, 3)
    .map((s) => `[p${String(s.process)} #${s.index}] ${short(s.description)}`);
  const more = ev.stuck.length > 3 ? ` and ${ev.stuck.length - 3} more` : '';
  return `after ${ev.linearized} of ${operations} ops (state ${short(ev.stateAfter)}) none of ${ops.join('; ')}${more} can be placed`;
}

function printHuman(io: CliIO, arg: string, o: TargetOutcome): void {
  const r = o.results;
  const lin = o.linearizability;
  const why = r.reason !== undefined ? `: ${r.reason}` : '';
  io.out(
    `${arg}: ${verdictText(r.valid)}${why} (model ${r.model}, ${r.ops} ops, ${r.partitions} partition${r.partitions === 1 ? '' : 's'}, ${Math.round(r.elapsedMs)} ms)`,
  );
  for (const w of r.warnings) io.out(`  warning: ${w}`);
  const bad = [
    ...lin.partitions.filter((p) => p.valid === false),
    ...lin.partitions.filter((p) => p.valid === 'unknown'),
  ];
  for (const p of bad.slice(0, 5)) {
    const key =
      p.key === ''
        ? 'history'
        : p.keys !== undefined
          ? `keys ${p.keys.map((k) => JSON.stringify(k)).join(', ')} (searched together: a process's ops tie them)`
          : `key ${JSON.stringify(p.key)}`;
    const why =
      p.valid === false ? 'not linearizable' : `unknown${p.reason ? ` (${p.reason})` : ''}`;
    const detail = p.evidence ? `: ${evidenceText(p.evidence, p.operations)}` : '';
    io.out(`  ${key}: ${why}${detail}`);
  }
  if (bad.length > 5)
    io.out(`  … and ${bad.length - 5} more partitions not linearizable or unknown`);
  for (const f of o.written) io.out(`  wrote ${f}`);
}

/**
 * `--json`: exactly one object per history on stdout; warnings go to stderr. `reason` only
 * when the results give one (an unknown verdict with nothing to check).
 */
function printJsonLine(io: CliIO, file: string, r: Results): void {
  for (const w of r.warnings) io.err(`warning: ${w}`);
  io.out(
    JSON.stringify({
      file,
      valid: r.valid,
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
      ops: r.ops,
      partitions: r.partitions,
      elapsedMs: Math.round(r.elapsedMs * 1000) / 1000,
    }),
  );
}

/**
 * A folder written by `faultline run`: re-checked exactly as the run checked it (every checker
 * of its workload, from the spec in its test.json), rewriting its results.json in place.
 * Undefined when the run cannot be rebuilt here (the caller then checks linearizability only).
 */
async function recheckRun(dir: string, json: boolean, io: CliIO): Promise<Verdict | undefined> {
  // The harness and the registries of systems are loaded for results folders only: checking a
  // history file needs neither, and they take most of the start-up time.
  const [{ defaultRunDeps }, { depsForRunFolder }, { FILES }, { RunSetupError, recheckRunFolder }] =
    await Promise.all([
      import('../../api/registries.js'),
      import('../../api/user-values.js'),
      import('../../harness/results-folder.js'),
      import('../../harness/runner.js'),
    ]);
  let outcome: Awaited<ReturnType<typeof recheckRunFolder>>;
  try {
    // A system defined outside faultline is rebuilt from the module test.json names.
    const { deps, warning } = await depsForRunFolder(join(dir, FILES.test), defaultRunDeps());
    if (warning !== undefined) io.err(`warning: ${dir}: ${warning}`);
    outcome = await recheckRunFolder(dir, deps);
  } catch (e) {
    // A malformed history (a crashed run's, an edited one): the reader's one-line error.
    if (isHistoryError(e)) throw new UsageError(e.message);
    if (!(e instanceof RunSetupError)) throw e;
    // A run of a system or workload this faultline does not know: fall back to the
    // linearizability model test.json records.
    io.err(`warning: ${dir}: ${e.message}; re-checking linearizability only`);
    return undefined;
  }
  if (outcome === undefined) return undefined;
  const r = outcome.results;
  if (json) {
    printJsonLine(io, dir, r);
  } else {
    const word = (v: Verdict) => (v === true ? 'valid' : v === false ? 'INVALID' : 'unknown');
    const checkers = outcome.checkers.map((c) => `${c.name} ${word(c.valid)}`).join(', ');
    const status = r.run?.status ?? 'complete';
    io.out(
      `${dir}: ${word(r.valid)} (run ${status}; ${checkers}; ${r.ops} ops, re-checked as the run did)`,
    );
    for (const w of r.warnings) io.out(`  warning: ${w}`);
    if (r.valid === 'unknown') for (const reason of outcome.reasons) io.out(`  because ${reason}`);
    io.out(`  wrote ${join(dir, 'results.json')}`);
  }
  return r.valid;
}

async function runCheck(files: string[], raw: Record<string, unknown>, io: CliIO): Promise<number> {
  // Transactional models: the Elle-style checker (cli/check/elle-check.ts), loaded only then.
  if (raw.model === 'list-append' || raw.model === 'rw-register') {
    return (await import('../check/elle-check.js')).runElleCheck(files, raw, io);
  }
  // The schema (and zod with it) is loaded only for flags the quick reading does not accept.
  const flags =
    quickCheckFlags(raw, HISTORY_MODEL_NAMES) ??
    (await import('../check/options.js')).parseCheckFlags(raw, HISTORY_MODEL_NAMES);
  const names = subfolders(files);
  const verdicts: Verdict[] = [];
  let badInput = 0;
  const started = performance.now();
  for (const [i, arg] of files.entries()) {
    const outDir =
      flags.out === undefined
        ? undefined
        : files.length === 1
          ? flags.out
          : join(flags.out, names[i]!);
    try {
      if (flags.model === undefined && outDir === undefined && (await isDirectory(arg))) {
        const v = await recheckRun(arg, flags.json, io);
        if (v !== undefined) {
          verdicts.push(v);
          continue;
        }
        // Checked by its model alone: a run that did not finish still cannot be valid.
        const { settleRunStatus } = await import('../../harness/runner.js');
        const status = settleRunStatus(arg)?.status;
        if (status !== undefined && status !== 'complete') {
          io.err(`warning: ${arg}: the run's status is ${status}: its verdict is at best unknown`);
          verdicts.push('unknown');
        }
      }
      const target = await targetFor(arg, flags, outDir);
      const o = await checkTarget(target);
      verdicts.push(o.results.valid);
      if (flags.json) {
        printJsonLine(io, arg, o.results);
      } else {
        printHuman(io, arg, o);
      }
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      badInput += 1;
      io.err(`faultline check: ${e.message}`);
    }
  }
  const verdict = combineVerdicts(verdicts);
  if (!flags.json && files.length > 1) {
    const count = (v: Verdict) => verdicts.filter((x) => x === v).length;
    io.out(
      `${files.length} histories: ${count(true)} linearizable, ${count(false)} not linearizable, ${count('unknown')} unknown, ${badInput} unreadable (${Math.round(performance.now() - started)} ms)`,
    );
  }
  return badInput > 0 ? EXIT.usage : exitCodeOf(verdict);
}

export const registerCheck: RegisterCommand = (program: Command, { io, setExit }) => {
  program
    .command('check')
    .description(
      'check histories (files, or results folders) for linearizability, or transactional ones (--model list-append|rw-register) for isolation anomalies; exit 0 valid, 1 invalid, 2 unknown, 3 bad input',
    )
    .argument('<history...>', 'history files (JSONL, Jepsen EDN or log lines) or results folders')
    .option(
      '--model <name>',
      `the model: ${HISTORY_MODEL_NAMES.join(', ')}; or, for transactions, list-append, rw-register`,
    )
    .option('--format <format>', `input format: ${HISTORY_FORMATS.join('|')}`, 'auto')
    .option('--initial <json>', "the model's initial value, as JSON (e.g. 0, null, '\"x\"')")
    .option('--timeout <seconds>', 'search budget per history; past it the verdict is unknown')
    .option(
      '--out <dir>',
      'write results.json and timeline.html (a subfolder per history if several)',
    )
    .option('--json', 'print one JSON object per history and nothing else on stdout')
    .option(
      '--per-partition',
      'decide every partition instead of stopping at the first illegal one',
    )
    .option('--no-partition', 'search the history as one instead of per key')
    .option(
      '--consistency-models <models>',
      'with --model list-append|rw-register: models to check, comma-separated (default strict-serializable)',
    )
    .option('--anomalies <names>', 'with --model list-append|rw-register: check for exactly these')
    .option(
      '--sequential-keys',
      "with --model rw-register: assume each process sees each key's versions in order",
    )
    .option(
      '--linearizable-keys',
      "with --model rw-register: assume real-time order orders each key's versions",
    )
    .action(async (files: string[], opts: Record<string, unknown>) => {
      setExit(await runCheck(files, opts, io));
    });
};
