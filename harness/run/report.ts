import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientOp } from '../../checker/history/client-op.js';
import type { HistoryEvent } from '../../checker/history/event.js';
import type { Results } from '../../checker/results.js';
import type { FaultStyle, TimelineInput } from '../../checker/timeline/index.js';
import { renderTimeline } from '../../checker/timeline/index.js';
import { latencySvg, percentilesSvg, rateSvg } from '../plots.js';
import { FILES, writeJsonFile } from '../results-folder.js';
import { buildRunSummary, SUMMARY_FILE } from '../run-summary.js';
import type { ResolvedSpec } from '../spec.js';
import { errorText } from './errors.js';

/**
 * The pictures: plots and timeline. They explain the verdict but are not part of it, so a
 * failure to draw one is a warning in results.json (with the stack in error.log), not a crash.
 */
export function writeReport(
  dir: string,
  spec: ResolvedSpec,
  ops: readonly ClientOp[],
  events: readonly HistoryEvent[],
  timeline: TimelineInput | undefined,
  warnings: string[],
  faultStyles?: readonly FaultStyle[],
): void {
  const title = `${spec.name} (seed ${spec.seed})`;
  const draw = (file: string, render: () => string) => {
    try {
      writeFileSync(join(dir, file), render());
    } catch (e) {
      warnings.push(
        `could not draw ${file} (a bug in faultline; stack in error.log): ${errorText(e)}`,
      );
      writeFileSync(join(dir, 'error.log'), `${e instanceof Error ? e.stack : String(e)}\n`, {
        flag: 'a',
      });
    }
  };
  draw(FILES.latency, () => latencySvg(title, ops, events, faultStyles));
  draw(FILES.rate, () => rateSvg(title, ops, events, faultStyles));
  draw(FILES.percentiles, () => percentilesSvg(title, ops, events, faultStyles));
  if (timeline !== undefined) {
    draw(FILES.timeline, () =>
      renderTimeline({ ...timeline, title }, { maxOps: 400, maxPartitions: 4, faultStyles }),
    );
  }
}

/** When test.json says the run started (undefined when it does not). */
function startedAtOf(dir: string): string | undefined {
  try {
    const v = (JSON.parse(readFileSync(join(dir, FILES.test), 'utf8')) as { startedAt?: unknown })
      .startedAt;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** summary.json: the run in one small file, for CI and `faultline serve` (a warning if it fails). */
export function writeSummary(
  dir: string,
  spec: ResolvedSpec,
  results: Results,
  ops: readonly ClientOp[],
  events: readonly HistoryEvent[],
  faultStyles?: readonly FaultStyle[],
): void {
  try {
    const startedAt = startedAtOf(dir);
    const summary = buildRunSummary({
      spec,
      results,
      ops,
      events,
      ...(startedAt !== undefined ? { startedAt } : {}),
      ...(faultStyles !== undefined ? { faultStyles } : {}),
    });
    writeJsonFile(join(dir, SUMMARY_FILE), summary);
  } catch (e) {
    results.warnings.push(`could not write ${SUMMARY_FILE} (a bug in faultline): ${errorText(e)}`);
  }
}
