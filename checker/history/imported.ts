/**
 * What the importers share: turning the op maps read from a Jepsen-style file into
 * `HistoryEvent`s, with dense indices and times, each validated against the event schema.
 *
 * Times: when every op carries a `:time` and they never decrease, they are kept (Jepsen's
 * `:time` is nanoseconds since the test started, as ours). Otherwise times are synthesized
 * from the file order (event i at time i): the order of a Jepsen history is what its checkers
 * go by, and Jepsen's `:time`s are taken before the event is appended, so they can be slightly
 * out of order. The source's times are then kept in `sourceTime`, and a warning says so.
 * A source `:index` is replaced by the position in the file.
 */
import { type HistoryWarning, historyWarning } from './errors.js';
import type { HistoryEvent } from './event.js';
import { parseHistoryEvent } from './validate.js';

/** One op map as read from the source, with the line it starts on. */
export interface SourceOp {
  line: number;
  fields: Record<string, unknown>;
}

export interface ImportedHistory {
  events: HistoryEvent[];
  /** `lines[i]`: the source line of `events[i]`. */
  lines: number[];
  warnings: HistoryWarning[];
}

/**
 * A source `:time`. Times only order events: one beyond 2^53 ns, read exactly as a bigint, is
 * taken as the nearest double (which keeps the order) rather than refused.
 */
function timeOf(fields: Record<string, unknown>): unknown {
  const t = fields.time;
  return typeof t === 'bigint' ? Number(t) : t;
}

function sourceTimes(ops: readonly SourceOp[], file: string, warnings: HistoryWarning[]) {
  let withTime = 0;
  let backwards: { line: number; time: number; previous: number; previousLine: number } | undefined;
  let previous = Number.NEGATIVE_INFINITY;
  let previousLine = 0;
  for (const op of ops) {
    const t = timeOf(op.fields);
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) continue;
    withTime += 1;
    if (t < previous && backwards === undefined)
      backwards = { line: op.line, time: t, previous, previousLine };
    previous = t;
    previousLine = op.line;
  }
  if (withTime === 0) return false;
  if (withTime < ops.length) {
    warnings.push(
      historyWarning(
        { file },
        `only ${withTime} of ${ops.length} ops carry a :time; times are taken from the file order instead (the source's kept as sourceTime)`,
      ),
    );
    return false;
  }
  if (backwards !== undefined) {
    warnings.push(
      historyWarning(
        { file, line: backwards.line },
        `:time ${backwards.time} is earlier than ${backwards.previous} at line ${backwards.previousLine}; times are taken from the file order instead (the source's kept as sourceTime)`,
      ),
    );
    return false;
  }
  return true;
}

export function eventsFromSourceOps(
  ops: readonly SourceOp[],
  file: string,
  warnings: HistoryWarning[] = [],
): ImportedHistory {
  const useSourceTimes = sourceTimes(ops, file, warnings);
  const events: HistoryEvent[] = [];
  const lines: number[] = [];
  for (let index = 0; index < ops.length; index++) {
    const { line, fields } = ops[index]!;
    const { index: _sourceIndex, time: _time, ...rest } = fields;
    const time = timeOf(fields);
    const candidate: Record<string, unknown> = {
      index,
      time: useSourceTimes ? time : index,
      ...rest,
    };
    if (!useSourceTimes && time !== undefined) candidate.sourceTime = time;
    events.push(parseHistoryEvent(candidate, { file, line }));
    lines.push(line);
  }
  return { events, lines, warnings };
}
