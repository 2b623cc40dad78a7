/**
 * The verdict must not depend on the input format (DESIGN.md): the same history written as
 * JSONL, a Jepsen EDN vector, EDN maps one per line and Jepsen log lines imports to the same
 * client operations, and the linearizability checker gives the same verdict on each.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLinearizability } from '../linearizability.js';
import type { ClientOp } from './client-op.js';
import type { HistoryFormat } from './detect.js';
import type { HistoryEvent } from './event.js';
import { toEdnHistory, toEdnLines, toJepsenLog } from './export.js';
import { generateHistory } from './generate.js';
import { JsonlHistoryWriter } from './jsonl.js';
import { loadHistory } from './load.js';
import { pairOperations } from './pair.js';

const testdata = fileURLToPath(new URL('../../../shared/testdata/', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultline-cross-format-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const LOG_FIELDS = new Set(['index', 'time', 'process', 'type', 'f', 'value', 'error']);

/** The same events with times from their order, as a format without times reads them. */
function withOrderTimes(events: readonly HistoryEvent[]): HistoryEvent[] {
  return events.map((e) => ({ ...e, time: e.index }));
}

interface Written {
  format: HistoryFormat;
  file: string;
  /** The client operations this file must import to. */
  expected: ClientOp[];
}

let counter = 0;
async function writeAllFormats(name: string, events: readonly HistoryEvent[]): Promise<Written[]> {
  const base = join(dir, `${counter++}-${name}`);
  const ops = pairOperations(events);
  const out: Written[] = [];
  const jsonl = `${base}.jsonl`;
  const w = await JsonlHistoryWriter.open(jsonl);
  for (const e of events) w.append(e);
  await w.close();
  out.push({ format: 'jsonl', file: jsonl, expected: ops });
  await writeFile(`${base}.edn`, toEdnHistory(events));
  out.push({ format: 'edn', file: `${base}.edn`, expected: ops });
  await writeFile(`${base}.lines.txt`, toEdnLines(events));
  out.push({ format: 'edn-lines', file: `${base}.lines.txt`, expected: ops });
  // Without :time, EDN readers take times from the order.
  const ordered = pairOperations(withOrderTimes(events));
  await writeFile(`${base}.notime.edn`, toEdnHistory(events, { time: false }));
  out.push({ format: 'edn', file: `${base}.notime.edn`, expected: ordered });
  // Log lines carry no key, time or extra fields.
  if (events.every((e) => e.key === undefined && Object.keys(e).every((k) => LOG_FIELDS.has(k)))) {
    const log = toJepsenLog(events);
    await writeFile(`${base}.log`, log);
    out.push({ format: 'jepsen-log', file: `${base}.log`, expected: ordered });
    // As some published logs have them: runs of spaces (of varying length) for the tabs.
    let k = 0;
    const spaced = log.replaceAll('\t', () => ' '.repeat(1 + (k++ % 3)));
    await writeFile(`${base}.spaced.log`, spaced);
    out.push({ format: 'jepsen-log', file: `${base}.spaced.log`, expected: ordered });
  }
  return out;
}

interface Source {
  name: string;
  events: () => Promise<HistoryEvent[]>;
  model: string;
  /** A verdict known independently of the checker (by construction). */
  known?: boolean;
}

const reference = (path: string, model = 'cas-register'): Source => ({
  name: path.replaceAll('/', '_'),
  events: async () => (await loadHistory(join(testdata, path))).events,
  model,
});

const generated = (seed: number, corruptReads: number, keys = 0): Source => ({
  name: `generated-${seed}-${corruptReads}-${keys}`,
  events: async () =>
    generateHistory({
      seed,
      ops: 40,
      clients: 4,
      keys,
      infoRate: 0.1,
      corruptReads,
      ...(keys > 0 ? { nemesisEvery: 25 } : {}),
    }),
  model: keys > 0 ? 'kv' : 'cas-register',
  ...(corruptReads === 0 ? { known: true } : {}),
});

const sources: Source[] = [
  reference('porcupine/etcd/etcd_000.log'),
  reference('porcupine/etcd/etcd_002.log'),
  reference('porcupine/etcd/etcd_007.log'),
  reference('knossos/cas-register/good/cas-register-bug.edn'),
  reference('knossos/cas-register/good/memstress3-0.edn'),
  reference('knossos/cas-register/good/mongodb-v0-ack-rollback-0.edn'),
  reference('knossos/cas-register/bad/bad-analysis.edn'),
  reference('knossos/cas-register/bad/rethink-fail-minimal.edn'),
  reference('knossos/cas-register/bad/rethink-fail-smaller.edn'),
  reference('porcupine/kv/c01-ok.txt', 'append-kv'),
  reference('porcupine/kv/c01-bad.txt', 'append-kv'),
  generated(1, 0),
  generated(2, 0),
  generated(3, 0.3),
  generated(4, 0.3),
  generated(5, 0, 3),
  generated(6, 0.3, 3),
];

describe('the same history in every format', () => {
  for (const source of sources) {
    it(`${source.name}: same client operations and the same ${source.model} verdict`, async () => {
      const events = await source.events();
      expect(events.length).toBeGreaterThan(0);
      const written = await writeAllFormats(source.name, events);
      const verdicts = new Set<unknown>();
      for (const { format, file, expected } of written) {
        const auto = await loadHistory(file);
        expect(auto.format).toBe(format);
        const explicit = await loadHistory(file, format);
        expect(explicit.events).toEqual(auto.events);
        const ops = pairOperations(auto.events);
        expect(ops, `${format}: ${file}`).toEqual(expected);
        const result = await checkLinearizability(ops, { model: source.model, timeoutMs: 20_000 });
        verdicts.add(result.valid);
      }
      expect(written.length).toBeGreaterThanOrEqual(4);
      expect([...verdicts]).toHaveLength(1);
      expect(verdicts.has('unknown')).toBe(false);
      if (source.known !== undefined) expect([...verdicts][0]).toBe(source.known);
    });
  }
});
