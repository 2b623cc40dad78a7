import type { HistoryEvent } from '../../checker/history/event.js';
import type { FaultStyle } from '../../checker/timeline/index.js';
import { nemesisIntervals } from '../../checker/timeline/index.js';
import type { EventInput } from '../../core/event.js';
import type { Recorder } from '../recorder.js';

/** The phases a run goes through, as the progress line and the logs name them. */
export type Phase =
  | 'setup'
  | 'main'
  | 'heal'
  | 'recovery'
  | 'final'
  | 'converge'
  | 'teardown'
  | 'check'
  | 'done';

export interface Progress {
  phase: Phase;
  /** Seconds since the main phase started (0 before). */
  elapsedS: number;
  limitS: number;
  /** Completions per second over the last interval. */
  opsPerS: number;
  ok: number;
  fail: number;
  info: number;
  /** Faults in effect now, e.g. "partition, kill". */
  faults: string;
}

/**
 * What the stages of one run share: the recorder, the phase, the counts behind the progress
 * line, the nemesis events so far, and the run's warnings and problems (things it planned and
 * did not do, each a reason its verdict cannot be valid). One per run; the stages take it.
 */
export class RunSession {
  phase: Phase = 'setup';
  /** Recorder time when the main phase started. */
  mainStart: number | undefined;
  readonly counts = { ok: 0, fail: 0, info: 0 };
  readonly nemesisEvents: HistoryEvent[] = [];
  readonly warnings: string[] = [];
  readonly problems: string[] = [];
  /** Where the run was when it was stopped (signal or error), first time only. */
  stoppedIn: Phase | undefined;
  stoppedAt = 0;
  private lastCompleted = 0;
  private lastTick: number;

  constructor(
    readonly recorder: Recorder,
    readonly signal: AbortSignal,
    private readonly log: (line: string) => void,
    readonly limitS: number,
    /** The nemesis's fault kinds (their event names), for the faults in effect. */
    private readonly faultStyles: readonly FaultStyle[] = [],
  ) {
    this.lastTick = recorder.now();
  }

  setPhase(p: Phase): void {
    this.phase = p;
    this.recorder.flush();
    this.log(`phase: ${p}`);
  }

  note(line: string): void {
    this.log(line);
  }

  warn(w: string): void {
    this.warnings.push(w);
    this.log(`warning: ${w}`);
  }

  /** Something the run planned and did not do: a warning, and a reason against `valid`. */
  problem(p: string): void {
    this.problems.push(p);
    this.warn(p);
  }

  /** Notes where the run stood when it was stopped (the first call wins). */
  noteStop(): void {
    this.stoppedIn ??= this.phase;
    this.stoppedAt ||= this.recorder.now();
  }

  recordNemesis(e: EventInput): void {
    this.nemesisEvents.push(
      this.recorder.record({ ...e, process: 'nemesis', type: e.type ?? 'info' }),
    );
  }

  countCompletion(e: HistoryEvent): void {
    if (e.type === 'ok' || e.type === 'fail' || e.type === 'info') this.counts[e.type]++;
  }

  /** Faults in effect now, from the nemesis events recorded so far. */
  activeFaults(): string {
    return nemesisIntervals(this.nemesisEvents, this.faultStyles)
      .filter((iv) => iv.interval && iv.end === Number.POSITIVE_INFINITY)
      .map((iv) => iv.kind)
      .join(', ');
  }

  progress(): Progress {
    const now = this.recorder.now();
    const done = this.counts.ok + this.counts.fail + this.counts.info;
    const dt = (now - this.lastTick) / 1e9;
    const p: Progress = {
      phase: this.phase,
      elapsedS: this.mainStart === undefined ? 0 : (now - this.mainStart) / 1e9,
      limitS: this.limitS,
      opsPerS: dt > 0 ? (done - this.lastCompleted) / dt : 0,
      ...this.counts,
      faults: this.activeFaults(),
    };
    this.lastCompleted = done;
    this.lastTick = now;
    return p;
  }
}
