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

function sourceTimes(
  times: readonly unknown[],
  lines: readonly number[],
  file: string,
  warnings: HistoryWarning[],
) {
  let withTime = 0;
  let backwards: { line: number; time: number; previous: number; previousLine: number } | undefined;
  let previous = Number.NEGATIVE_INFINITY;
  let previousLine = 0;
  for (let k = 0; k < times.length; k++) {
    const t = times[k];
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) continue;
    withTime += 1;
    if (t < previous && backwards === undefined)
      backwards = { line: lines[k]!, time: t, previous, previousLine };
    previous = t;
    previousLine = lines[k]!;
  }
  if (withTime === 0) return false;
  if (withTime < times.length) {
    warnings.push(
      historyWarning(
        { file },
        `only ${withTime} of ${times.length} ops carry a :time; times are taken from the file order instead (the source's kept as sourceTime)`,
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
  const lines = ops.map((op) => op.line);
  const times = ops.map((op) => timeOf(op.fields));
  // The event's fields in order: index, time, then the source's others as they came.
  const events = ops.map(({ fields }) => {
    const event: Record<string, unknown> = { index: 0, time: 0 };
    for (const k in fields) {
      if (k !== 'index' && k !== 'time' && Object.hasOwn(fields, k)) {
        if (k === '__proto__') {
          Object.defineProperty(event, k, {
            value: fields[k],
            writable: true,
            enumerable: true,
            configurable: true,
          });
        } else event[k] = fields[k];
      }
    }
    return event;
  });
  return eventsFromOpMaps(events, times, lines, file, warnings);
}

/**
 * As `eventsFromSourceOps`, from op maps already laid out as events (`index` and `time` first,
 * then the source's other fields as they came; the source's own index and time left out) and
 * each op's source `:time` beside them. Fills in `index`, `time` (and `sourceTime`) in place.
 */
export function eventsFromOpMaps(
  ops: Record<string, unknown>[],
  sourceTime: readonly unknown[],
  lines: number[],
  file: string,
  warnings: HistoryWarning[] = [],
): ImportedHistory {
  const times = sourceTime.map((t) => (typeof t === 'bigint' ? Number(t) : t));
  const useSourceTimes = sourceTimes(times, lines, file, warnings);
  const events: HistoryEvent[] = new Array(ops.length);
  for (let index = 0; index < ops.length; index++) {
    const event = ops[index]!;
    const time = times[index];
    event.index = index;
    event.time = useSourceTimes ? time : index;
    if (!useSourceTimes && time !== undefined) event.sourceTime = time;
    events[index] = parseHistoryEvent(event, { file, line: lines[index]! });
  }
  return { events, lines, warnings };
}
