/**
 * `faultline check FILE --model list-append|rw-register`: the transactional (Elle-style)
 * check of txn histories. Called from cli/commands/check.ts for those two models only, and
 * loaded only then.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { z } from 'zod';
import {
  CONSISTENCY_MODELS,
  checkElle,
  type ElleResult,
  type ElleVerdict,
  KNOWN_ANOMALIES,
  loadTxnHistory,
  modelName,
  renderElleReport,
  WORKLOADS,
} from '../../checker/elle/index.js';
import { isHistoryError } from '../../checker/history/errors.js';
import { combineVerdicts } from '../../checker/results.js';
import { EXIT, exitCodeOf, UsageError } from '../exit-codes.js';
import type { CliIO } from '../io.js';
import { HISTORY_FORMATS } from './options.js';

/** The models this module answers for (the check command branches on them). */
export const ELLE_MODELS: readonly string[] = WORKLOADS;

const list = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== ''),
  )
  .refine((xs) => xs.length > 0, 'expected a comma-separated list');

const flagsSchema = z.object({
  model: z.enum(WORKLOADS),
  format: z.enum(HISTORY_FORMATS, { message: `expected one of ${HISTORY_FORMATS.join(', ')}` }),
  json: z.boolean().default(false),
  out: z.string().min(1, 'expected a folder').optional(),
  consistencyModels: list
    .refine((ms) => ms.every((m) => modelName(m) !== undefined), {
      message: `unknown model; known: ${CONSISTENCY_MODELS.join(', ')}`,
    })
    .optional(),
  anomalies: list
    .refine((as) => as.every((a) => KNOWN_ANOMALIES.includes(a.replace(/^:/, ''))), {
      message: `unknown anomaly; known: ${KNOWN_ANOMALIES.join(', ')}`,
    })
    .optional(),
  sequentialKeys: z.boolean().default(false),
  linearizableKeys: z.boolean().default(false),
});

/** Flags of the linearizability check that mean nothing here. */
const NOT_HERE: Record<string, string> = {
  initial: '--initial',
  timeout: '--timeout',
  perPartition: '--per-partition',
};

const FLAG_NAMES: Record<string, string> = {
  model: '--model',
  format: '--format',
  consistencyModels: '--consistency-models',
  anomalies: '--anomalies',
  out: '--out',
  sequentialKeys: '--sequential-keys',
  linearizableKeys: '--linearizable-keys',
};

/** Flags of rw-register's version order: list-append's lists give the order outright. */
const RW_REGISTER_ONLY: Record<string, string> = {
  sequentialKeys: '--sequential-keys',
  linearizableKeys: '--linearizable-keys',
};

function parseFlags(raw: Record<string, unknown>) {
  for (const [field, flag] of Object.entries(NOT_HERE)) {
    if (raw[field] !== undefined && raw[field] !== false) {
      throw new UsageError(`${flag} does not apply to --model ${String(raw.model)}`);
    }
  }
  if (raw.model !== 'rw-register') {
    for (const [field, flag] of Object.entries(RW_REGISTER_ONLY)) {
      if (raw[field] !== undefined && raw[field] !== false) {
        throw new UsageError(
          `${flag} applies to --model rw-register only (list-append reads give the version order)`,
        );
      }
    }
  }
  if (raw.partition === false) {
    throw new UsageError(`--no-partition does not apply to --model ${String(raw.model)}`);
  }
  const r = flagsSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = String(issue.path[0] ?? '');
  const given = raw[field];
  throw new UsageError(
    `${FLAG_NAMES[field] ?? field} ${given === undefined ? '' : `${JSON.stringify(given)}: `}${issue.message}`,
  );
}

const word = (v: ElleVerdict) => (v === true ? 'valid' : v === false ? 'INVALID' : 'unknown');

function printHuman(io: CliIO, file: string, r: ElleResult, elapsedMs: number): void {
  io.out(
    `${file}: ${word(r.valid)} (${r.workload}, ${r.txns} txns, checked for ${r.consistencyModels.join(', ')}, ${Math.round(elapsedMs)} ms)`,
  );
  for (const type of r.anomalyTypes) {
    const found = r.anomalies[type]!;
    io.out(`  ${type} (${found.length}${found.length >= 50 ? '+' : ''}): ${found[0]!.text}`);
    for (const t of found[0]!.txns) {
      io.out(
        `    T${t.id} = event ${t.index}, process ${String(t.process)}, ${t.status}: ${t.text}`,
      );
    }
  }
  if (r.not.length > 0) io.out(`  not ${r.not.join(', ')}`);
  if (r.alsoNot.length > 0) io.out(`  also not ${r.alsoNot.join(', ')}`);
  for (const u of r.unknown) io.out(`  unknown: ${u}`);
  for (const n of r.notes) io.out(`  note: ${n}`);
}

async function historyFile(arg: string): Promise<string> {
  try {
    // A results folder: its history.
    return (await stat(arg)).isDirectory() ? join(arg, 'history.jsonl') : arg;
  } catch {
    return arg;
  }
}

export async function runElleCheck(
  files: readonly string[],
  raw: Record<string, unknown>,
  io: CliIO,
): Promise<number> {
  const flags = parseFlags(raw);
  const verdicts: ElleVerdict[] = [];
  let badInput = 0;
  for (const arg of files) {
    const started = performance.now();
    try {
      const history = await loadTxnHistory(await historyFile(arg), flags.model, flags.format);
      const r = checkElle(history, {
        workload: flags.model,
        ...(flags.consistencyModels !== undefined
          ? { consistencyModels: flags.consistencyModels }
          : {}),
        ...(flags.anomalies !== undefined ? { anomalies: flags.anomalies } : {}),
        sequentialKeys: flags.sequentialKeys,
        linearizableKeys: flags.linearizableKeys,
      });
      const elapsedMs = performance.now() - started;
      verdicts.push(r.valid);
      for (const w of history.warnings) io.err(`warning: ${w.message}`);
      if (flags.json) {
        io.out(
          JSON.stringify({
            file: arg,
            valid: r.valid,
            anomalies: r.anomalyTypes,
            ...(r.valid === 'unknown' ? { reason: r.unknown.join('; ') } : {}),
            ops: r.txns,
            elapsedMs: Math.round(elapsedMs * 1000) / 1000,
          }),
        );
      } else {
        printHuman(io, arg, r, elapsedMs);
      }
      if (flags.out !== undefined) {
        // One page per history: <name>-elle.html.
        const page = join(flags.out, `${basename(arg, extname(arg)) || 'history'}-elle.html`);
        await mkdir(flags.out, { recursive: true });
        await writeFile(page, renderElleReport(arg, r, history.events));
        if (!flags.json) io.out(`  wrote ${page}`);
      }
    } catch (e) {
      if (!isHistoryError(e)) throw e;
      badInput += 1;
      io.err(`faultline check: ${e.message}`);
    }
  }
  return badInput > 0 ? EXIT.usage : exitCodeOf(combineVerdicts(verdicts));
}
