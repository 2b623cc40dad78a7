/**
 * Results folders for the tests of `faultline serve` and the timeline in a browser: runs written
 * the way the runner writes them (test.json, history.jsonl, summary.json, node logs, plots and
 * timeline from the real renderers), with markup planted in values, keys and log lines.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientOp } from '../../checker/history/client-op.js';
import type { HistoryEvent } from '../../checker/history/event.js';
import { pairOperations } from '../../checker/history/pair.js';
import { checkLinearizability } from '../../checker/linearizability.js';
import { renderTimeline } from '../../checker/timeline/index.js';
import { latencySvg, percentilesSvg, rateSvg } from '../plots.js';
import { FILES } from '../results-folder.js';
import type { RunSummary } from '../run-summary.js';
import { percentiles } from '../run-summary.js';

/** Markup that would run if any page put it in as HTML. */
export const EVIL = '<img src=x onerror="window.__pwned=1">';

export interface FixtureRun {
  name: string;
  folder: string;
  dir: string;
  startedAt: string;
  /** Fault intervals in the history (not counting the final heal). */
  faults: number;
  ops: number;
  /** Nemesis start times, ns since the run started. */
  faultStarts: number[];
}

export interface FixtureOptions {
  name: string;
  folder: string;
  startedAt: string;
  ops: number;
  faults: number;
  /** Plant a stale read on key `bad` (an anomaly the checker finds). */
  anomaly?: boolean;
  status?: string;
  throughput?: number;
}

interface Raw {
  time: number;
  process: number | string;
  type: string;
  f: string;
  key?: string;
  value?: unknown;
}

/** A history of `ops` register ops on 10 processes, with faults, markup values and a heal. */
function history(o: FixtureOptions): { events: HistoryEvent[]; faultStarts: number[] } {
  const events: HistoryEvent[] = [];
  const procs = 10;
  const step = 2_000_000; // 2 ms between a process's ops
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const raw: Raw[] = [];
  const per = Math.ceil(o.ops / procs);
  let written = 0;
  for (let p = 0; p < procs; p++) {
    let t = 1_000_000 + p * 137_000;
    for (let k = 0; k < per && written < o.ops; k++, written++) {
      const dur = 200_000 + Math.floor(rnd() * 1_500_000);
      const write = rnd() < 0.4;
      // Reads go to keys nobody writes (null, always right): only the planted anomaly is one.
      const key = !write ? `r${written % 3}` : written % 13 === 0 ? EVIL : `k${written % 3}`;
      const value = write ? (written % 11 === 0 ? EVIL : Math.floor(rnd() * 5)) : undefined;
      raw.push({
        time: t,
        process: p,
        type: 'invoke',
        f: write ? 'write' : 'read',
        key,
        ...(write ? { value } : {}),
      });
      raw.push({
        time: t + dur,
        process: p,
        type: 'ok',
        f: write ? 'write' : 'read',
        key,
        value: write ? value : null,
      });
      t += step + Math.floor(rnd() * 400_000);
    }
  }
  const end = Math.max(...raw.map((e) => e.time));
  const faultStarts: number[] = [];
  for (let i = 0; i < o.faults; i++) {
    const s = Math.floor(((i + 0.25) / o.faults) * end * 0.9);
    faultStarts.push(s);
    const [open, close] = i % 2 === 0 ? ['partition-start', 'partition-stop'] : ['kill', 'start'];
    raw.push({
      time: s,
      process: 'nemesis',
      type: 'info',
      f: open,
      value: { grudge: EVIL },
    });
    raw.push({
      time: s + Math.floor((end / o.faults) * 0.3),
      process: 'nemesis',
      type: 'info',
      f: close,
      value: ['n2'],
    });
  }
  raw.push({ time: end * 0.95, process: 'nemesis', type: 'info', f: 'heal-all-start' });
  raw.push({
    time: end * 0.95 + 1000,
    process: 'nemesis',
    type: 'info',
    f: 'heal-all-stop',
  });
  if (o.anomaly) {
    // write 1, write 2, then a read of 1 on key `bad`, by processes 20..22.
    raw.push({
      time: end * 0.5,
      process: 20,
      type: 'invoke',
      f: 'write',
      key: 'bad',
      value: 1,
    });
    raw.push({
      time: end * 0.5 + 1e5,
      process: 20,
      type: 'ok',
      f: 'write',
      key: 'bad',
      value: 1,
    });
    raw.push({
      time: end * 0.5 + 2e5,
      process: 21,
      type: 'invoke',
      f: 'write',
      key: 'bad',
      value: 2,
    });
    raw.push({
      time: end * 0.5 + 3e5,
      process: 21,
      type: 'ok',
      f: 'write',
      key: 'bad',
      value: 2,
    });
    raw.push({ time: end * 0.5 + 4e5, process: 22, type: 'invoke', f: 'read', key: 'bad' });
    raw.push({
      time: end * 0.5 + 5e5,
      process: 22,
      type: 'ok',
      f: 'read',
      key: 'bad',
      value: 1,
    });
  }
  raw.sort((a, b) => a.time - b.time);
  raw.forEach((e: Raw, index) => {
    events.push({ ...e, index } as unknown as HistoryEvent);
  });
  return { events, faultStarts };
}

/** Writes one run folder under `root`; resolves when its timeline and plots are drawn. */
export async function writeFixtureRun(root: string, o: FixtureOptions): Promise<FixtureRun> {
  const dir = join(root, o.name, o.folder);
  mkdirSync(join(dir, FILES.nodes), { recursive: true });
  const { events, faultStarts } = history(o);
  const ops: ClientOp[] = pairOperations(events);
  writeFileSync(join(dir, FILES.history), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  const result = await checkLinearizability(ops, { model: 'kv', verbose: true });
  const status = o.status ?? 'complete';
  const verdict =
    status === 'running'
      ? undefined
      : result.valid === true
        ? 'valid'
        : result.valid === false
          ? 'invalid'
          : 'unknown';
  writeFileSync(
    join(dir, FILES.test),
    JSON.stringify({
      startedAt: o.startedAt,
      seed: 1234,
      status,
      ...(verdict !== undefined ? { verdict } : {}),
      pid: status === 'running' ? process.pid : 1,
      host: 'fixture',
      spec: {
        name: o.name,
        system: 'leaderless',
        backend: 'local',
        nodes: 3,
        workload: { name: 'register', options: {} },
        nemesis: { faults: ['partition', 'kill'] },
        timeLimit: 30,
      },
    }),
  );
  const title = `${o.name} (seed 1234)`;
  writeFileSync(join(dir, FILES.timeline), renderTimeline({ title, ops, events, result }));
  writeFileSync(join(dir, FILES.latency), latencySvg(title, ops, events));
  writeFileSync(join(dir, FILES.percentiles), percentilesSvg(title, ops, events));
  writeFileSync(join(dir, FILES.rate), rateSvg(title, ops, events));
  const end = events.at(-1)!.time / 1e9;
  if (status === 'running') {
    // What the runner's progress ticker writes: the main phase, counts so far, a fault in effect.
    writeFileSync(
      join(dir, FILES.progress),
      JSON.stringify({
        at: o.startedAt,
        phase: 'main',
        elapsedS: end,
        limitS: 30,
        opsPerS: ops.length / end,
        ok: ops.length,
        fail: 0,
        info: 0,
        faults: 'partition',
      }),
    );
  }
  if (status !== 'running') {
    const bad = result.partitions.filter((p) => p.valid === false).map((p) => p.key);
    const summary: RunSummary = {
      summary: 1,
      name: o.name,
      startedAt: o.startedAt,
      system: 'leaderless',
      backend: 'local',
      workload: 'register',
      nodes: 3,
      faults: ['partition', 'kill'],
      faultsHappened: { partition: Math.ceil(o.faults / 2), kill: Math.floor(o.faults / 2) },
      seed: 1234,
      status,
      verdict: verdict as RunSummary['verdict'],
      valid: result.valid,
      reasons: verdict === 'invalid' ? ['the linearizability checker found an anomaly'] : [],
      checkers: [
        {
          name: 'linearizability',
          valid: result.valid,
          anomalies: bad.map((k) => `key ${k} is not linearizable ${EVIL}`),
        },
      ],
      anomalies: bad.map((k) => `key ${k} is not linearizable ${EVIL}`),
      ops: { total: ops.length, ok: ops.length, fail: 0, info: 0, pending: 0 },
      durationS: end,
      throughput: o.throughput ?? ops.length / end,
      latencyMs: percentiles(ops.map((op) => (op.return - op.call) / 1e6)),
      availability: { duringFaults: 0.8, outsideFaults: 1 },
      failoverMs: { median: 20, worst: 40 },
      warnings: [],
      reproduce: `faultline run --name ${o.name} --seed 1234`,
    };
    writeFileSync(join(dir, FILES.summary), JSON.stringify(summary));
  }
  // Node logs: a line every 100 ms of the run, wall-clock stamped from startedAt, some with markup.
  const t0 = Date.parse(o.startedAt);
  for (const node of ['n1', 'n2', 'n3']) {
    mkdirSync(join(dir, FILES.nodes, node), { recursive: true });
    const lines = [`--- faultline: starting ${node} at ${new Date(t0).toISOString()}`];
    for (let ms = 0; ms <= end * 1000; ms += 100) {
      lines.push(
        `${new Date(t0 + ms).toISOString()} INFO ${node} tick ${ms} ms ${ms % 500 === 0 ? EVIL : ''}`,
      );
    }
    writeFileSync(join(dir, FILES.nodes, node, 'stdout.log'), `${lines.join('\n')}\n`);
  }
  return {
    name: o.name,
    folder: o.folder,
    dir,
    startedAt: o.startedAt,
    faults: o.faults,
    ops: ops.length,
    faultStarts,
  };
}
