/**
 * Writing a history in Jepsen's formats, for other tools (Knossos reads `history.edn`) and for
 * the cross-format tests: the importers must read back what these write.
 * Strings in `process` (nemesis), `type` and `f` become keywords; values are written as EDN
 * data (JSON objects as maps with keyword keys).
 */
import { type EDNVal, toEDNString } from 'edn-data';
import type { HistoryEvent } from './event.js';

/** Names that read back as the same keyword; other map keys are written as strings. */
const KEYWORD_NAME = /^[a-zA-Z*+!_?<>=][\w*+!?<>=.-]*$/;

function ednValue(v: unknown): EDNVal {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map(ednValue);
  if (typeof v === 'object') {
    return {
      map: Object.entries(v).map(([k, x]): [EDNVal, EDNVal] => [
        KEYWORD_NAME.test(k) ? { key: k } : k,
        ednValue(x),
      ]),
    };
  }
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  // A bare integer literal (edn-data would add Clojure's N suffix): the importer reads the
  // digits back as the same bigint, as Jepsen reads them as a long.
  if (typeof v === 'bigint') return { sym: v.toString() };
  return String(v);
}

const keyword = (name: string): EDNVal => ({ key: name });

export interface EdnExportOptions {
  /** Write each event's `time` as `:time` (default true). */
  time?: boolean;
}

/** One event as an EDN op map. `index` is left out (it is the position); other fields kept. */
export function eventToEdn(e: HistoryEvent, options: EdnExportOptions = {}): string {
  const { index: _index, time, process, type, f, ...rest } = e;
  const entries: [EDNVal, EDNVal][] = [
    [keyword('process'), typeof process === 'string' ? keyword(process) : process],
    [keyword('type'), keyword(type)],
    [keyword('f'), keyword(f)],
  ];
  for (const [k, v] of Object.entries(rest)) {
    if (v !== undefined) entries.push([keyword(k), ednValue(v)]);
  }
  if (options.time !== false) entries.push([keyword('time'), time]);
  return toEDNString({ map: entries });
}

/** A Jepsen `history.edn`: a vector of op maps, one per line. */
export function toEdnHistory(
  events: readonly HistoryEvent[],
  options: EdnExportOptions = {},
): string {
  return `[${events.map((e) => eventToEdn(e, options)).join('\n ')}]\n`;
}

/** EDN op maps, one per line (as Porcupine's kv data). */
export function toEdnLines(
  events: readonly HistoryEvent[],
  options: EdnExportOptions = {},
): string {
  return events.map((e) => `${eventToEdn(e, options)}\n`).join('');
}

/**
 * Jepsen log lines (`INFO  jepsen.util - <process>\t:<type>\t:<f>\t<value>`). The format has
 * no key, no time and no other fields: a keyed event cannot be written.
 */
export function toJepsenLog(events: readonly HistoryEvent[]): string {
  return events
    .map((e) => {
      if (e.key !== undefined) {
        throw new Error(`event ${e.index} has a key, which Jepsen log lines cannot carry`);
      }
      const p = typeof e.process === 'string' ? `:${e.process}` : String(e.process);
      const error = e.error === undefined ? '' : `\t${toEDNString(ednValue(e.error))}`;
      return `INFO  jepsen.util - ${p}\t:${e.type}\t:${e.f}\t${toEDNString(ednValue(e.value))}${error}\n`;
    })
    .join('');
}
