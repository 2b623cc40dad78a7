/**
 * The anomaly timeline drawn from the checker's own evidence (not hand-made results): the ops
 * the search could not place appear highlighted, the faults are shaded, nothing is fetched.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateHistory } from '../checker/history/generate.js';
import {
  checkLinearizability,
  type HistoryEvent,
  loadHistory,
  renderTimeline,
  splitHistory,
} from '../checker/index.js';
import { ROOT } from './cli.js';
import { TESTDATA } from './testdata.js';

async function checked(file: string, model: string, initial?: { value: unknown }) {
  const { events } = await loadHistory(file, 'auto');
  const { ops } = splitHistory(events);
  const result = await checkLinearizability(ops, {
    model,
    ...(initial ? { initial: initial.value } : {}),
    verbose: true,
  });
  return { events, ops, result };
}

function stuckIds(result: Awaited<ReturnType<typeof checkLinearizability>>): number[] {
  const bad = result.partitions.find((p) => p.valid === false)!;
  return bad.info!.stuck.map((s) => bad.info!.operations[s]!.id!);
}

describe('timeline of checker evidence', () => {
  it('highlights what the checker could not place in the bundled stale-read example', async () => {
    const { events, ops, result } = await checked(
      join(ROOT, 'examples/stale-read.jsonl'),
      'cas-register',
    );
    expect(result.valid).toBe(false);
    const html = renderTimeline({ title: 'stale read', ops, result, events });
    const stuck = stuckIds(result);
    expect(stuck.length).toBeGreaterThan(0);
    for (const id of stuck)
      expect(html).toMatch(new RegExp(`<g class="op [a-z]+ stuck[^"]*" data-i="${id}"`));
    expect(html).toContain('>partition-start</text>');
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('draws a valid history whole, with the linearization the checker found', async () => {
    const { events, ops, result } = await checked(
      join(ROOT, 'examples/cas-register-ok.jsonl'),
      'cas-register',
    );
    expect(result.valid).toBe(true);
    const html = renderTimeline({ ops, result, events });
    expect(html).toContain('The whole history');
    // Every op is drawn; every step of the witness is numbered.
    expect(html.match(/<g class="op /g)).toHaveLength(ops.length);
    const witness = result.partitions[0]!.info!.longest[0]!;
    for (let k = 1; k <= witness.length; k++) expect(html).toContain(`linearized #${k};`);
    expect(html).toContain('>kill</text>');
  });

  it('draws a Jepsen etcd anomaly with its order-only clock', async () => {
    const { events, ops, result } = await checked(
      join(TESTDATA, 'porcupine/etcd/etcd_000.log'),
      'cas-register',
      { value: null },
    );
    const html = renderTimeline({
      ops,
      result,
      events,
      timeUnit: events.every((e: HistoryEvent) => e.time === e.index) ? 'order' : 'ns',
    });
    for (const id of stuckIds(result)) expect(html).toContain(`data-i="${id}"`);
    expect(html).toContain('event order (the history has no clock)');
    const longest = result.partitions.find((p) => p.valid === false)!.info!.longest[0]!;
    expect(html).toContain(`linearized #${longest.length};`);
  });

  it('keeps the page of a generated 100k-op history small', { timeout: 60_000 }, async () => {
    // 100 keys, 10 clients, 5 % info, a few corrupted reads, a fault every 2000 events.
    const events = generateHistory({
      seed: 3,
      ops: 100_000,
      clients: 10,
      keys: 100,
      corruptReads: 0.0002,
      nemesisEvery: 2000,
    });
    const { ops } = splitHistory(events);
    // A short budget: whatever the verdict (false, or unknown with partial evidence), the page
    // draws a few partitions in windows, never the whole history.
    const result = await checkLinearizability(ops, { model: 'kv', verbose: true, timeoutMs: 2000 });
    expect(result.valid).not.toBe(true);
    const html = renderTimeline({ ops, result, events });
    expect(html.length).toBeLessThan(2_000_000);
    expect(html).toMatch(/Showing \d+ of the \d+ ops of key/);
  });
});
