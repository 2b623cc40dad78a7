/**
 * "Harness-driven vs bare load", shared by the benches that measure it (harness.bench.ts on the
 * leaderless store, etcd.bench.ts on etcd): the same register clients, the same op mix and
 * concurrency, driven once by a bare loop that records nothing and once by the interpreter as
 * the runner wraps it, recording a real history.
 */
import { join } from 'node:path';
import type { Client, ClientFactory, Op } from '../core/client.js';
import type { NodeId } from '../core/cluster.js';
import type { Gen, GenContext } from '../core/generator.js';
import { Rng } from '../core/random.js';
import type { SystemDefinition } from '../core/system.js';
import { stagger, timeLimit } from '../generators/index.js';
import { interpret, ProcessTable } from '../harness/interpreter.js';
import { Recorder } from '../harness/recorder.js';
// The register workload on its own (not the registry: the other workloads are not needed here).
import { register } from '../workloads/register/index.js';

/** The system and nodes the register workload is built for. */
export interface LoadTarget {
  system: SystemDefinition;
  nodes: readonly NodeId[];
}

export interface LoadResult {
  ops: number;
  seconds: number;
  /** CPU this process spent (user + system), µs. */
  cpuUs: number;
}

export const rate = (r: LoadResult) => r.ops / r.seconds;
export const cpuPerOp = (r: LoadResult) => r.cpuUs / r.ops;
export const median = (xs: readonly number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** The register workload's generator as it is built for the target (keys, op mix). */
export function registerGenerator(target: LoadTarget, concurrency: number): Gen<Op> {
  return register.build(register.options.parse({}), {
    system: target.system,
    nodes: target.nodes,
    concurrency,
    rng: new Rng(1),
  }).generator;
}

/**
 * Each worker's ops, drawn from the workload's own generator before the clock starts (the bare
 * loop must not pay for generating them); a worker that uses them all starts over.
 */
export function opsPerWorker(target: LoadTarget, threads: number, perWorker: number): Op[][] {
  const out: Op[][] = Array.from({ length: threads }, () => []);
  let g: Gen<Op> | undefined = registerGenerator(target, threads);
  const rngs = Array.from({ length: threads }, (_, t) => new Rng(2).fork(`t${t}`));
  const ctx: GenContext = { time: 0, thread: 0, threads, busy: 0, rng: rngs[0] as Rng };
  for (let i = 0; g !== undefined && i < threads * perWorker; i++) {
    ctx.thread = i % threads;
    ctx.rng = rngs[ctx.thread] as Rng;
    const s: ReturnType<Gen<Op>['next']> = g.next(ctx);
    if (s === undefined) break;
    g = s.next;
    if (s.kind === 'op') (out[ctx.thread] as Op[]).push(s.op);
  }
  return out;
}

/**
 * The bare load generator: `clients.length` workers, each issuing its next op as soon as the
 * previous one completes, through the same client objects, recording nothing, with no timers
 * and no per-op signal (one per worker, never aborted).
 */
export async function bareLoad(
  clients: readonly Client<Op>[],
  ops: Op[][],
  seconds: number,
): Promise<LoadResult> {
  let done = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    clients.map(async (c, t) => {
      const mine = ops[t] as Op[];
      const signal = new AbortController().signal;
      for (let i = 0; performance.now() < end; i++) {
        try {
          await c.invoke(mine[i % mine.length] as Op, signal);
        } catch {
          // a failed cas is an answer too
        }
        done++;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { ops: done, seconds: (performance.now() - t0) / 1000, cpuUs: cpu.user + cpu.system };
}

/**
 * The harness: the interpreter over the register workload's generator, as the runner wraps it
 * (time limit, stagger at a rate far above what a store does, so: unlimited), recording every
 * event to a real history.jsonl, with per-op timeouts and classification.
 */
export async function drivenLoad(
  target: LoadTarget,
  clients: readonly Client<Op>[],
  seconds: number,
  dir: string,
): Promise<LoadResult> {
  const recorder = new Recorder(join(dir, `driven-${Date.now()}.jsonl`));
  const factory = target.system.clients.register as ClientFactory<Op>;
  let done = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await interpret({
    gen: timeLimit(seconds * 1e9, stagger(1, registerGenerator(target, clients.length))),
    processes: new ProcessTable(clients.length),
    client: (t) => clients[t] as Client<Op>,
    errors: factory.errors,
    rng: (t) => new Rng(3).fork(`t${t}`),
    sink: recorder,
    opTimeoutMs: 5000,
    signal: new AbortController().signal,
    onCompletion: (e) => {
      if (e.type === 'ok' || e.type === 'fail' || e.type === 'info') done++;
    },
  });
  recorder.close();
  const cpu = process.cpuUsage(cpu0);
  return { ops: done, seconds: (performance.now() - t0) / 1000, cpuUs: cpu.user + cpu.system };
}
