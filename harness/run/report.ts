import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientOp } from '../../checker/history/client-op.js';
import type { HistoryEvent } from '../../checker/history/event.js';
import type { FaultStyle, TimelineInput } from '../../checker/timeline/index.js';
import { renderTimeline } from '../../checker/timeline/index.js';
import { latencySvg, rateSvg } from '../plots.js';
import { FILES } from '../results-folder.js';
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
  if (timeline !== undefined) {
    draw(FILES.timeline, () =>
      renderTimeline({ ...timeline, title }, { maxOps: 400, maxPartitions: 4, faultStyles }),
    );
  }
}
