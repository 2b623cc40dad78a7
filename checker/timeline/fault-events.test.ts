import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history/event.js';
import { classifyFaultEvent, closingEventFor, type FaultStyle } from './fault-events.js';
import { nemesisIntervals } from './nemesis.js';

const nemesis = (time: number, f: string): HistoryEvent => ({
  index: time,
  time,
  process: 'nemesis',
  type: 'info',
  f,
});

const nothingOpen = () => false;

/** Every opener faultline's nemesis records (nemesis/executor.ts), with the closer it records. */
const OURS: [open: string, close: string, kind: string][] = [
  ['partition-start', 'partition-stop', 'partition'],
  ['kill', 'start', 'kill'],
  ['pause', 'resume', 'pause'],
  ['link-start', 'link-stop', 'link'],
  ['clock-offset', 'clock-reset', 'clock'],
];

/** Pairs found in Jepsen histories (jepsen.nemesis.combined and the older nemeses). */
const JEPSEN: [open: string, close: string, kind: string][] = [
  ['start-partition', 'stop-partition', 'partition'],
  ['start-packet', 'stop-packet', 'packet'],
  ['kill', 'start', 'kill'],
  ['pause', 'resume', 'pause'],
  ['start', 'stop', 'fault'],
  ['crash', 'start', 'kill'],
  ['freeze', 'unfreeze', 'pause'],
  ['partition', 'heal', 'partition'],
];

describe('closingEventFor', () => {
  it.each([...OURS, ...JEPSEN])('%s is closed by %s (kind %s)', (open, close, kind) => {
    expect(classifyFaultEvent(open, nothingOpen)).toEqual({ kind, edge: 'open' });
    expect(closingEventFor(open)).toBe(close);
    expect(classifyFaultEvent(close, (k) => k === kind)).toEqual({ kind, edge: 'close' });
    // And end to end: the interval the pair makes is closed.
    const [iv] = nemesisIntervals([nemesis(1, open), nemesis(2, closingEventFor(open))]);
    expect(iv).toMatchObject({ kind, start: 1, end: 2, interval: true });
  });

  it('closes what any opening f opened (property over made-up names)', () => {
    const word = fc.constantFrom('start', 'stop', 'begin', 'end', 'clock', 'offset', 'kill', 'x');
    const names = fc.oneof(
      fc.array(word, { minLength: 1, maxLength: 4 }).map((ws) => ws.join('-')),
      fc.constantFrom(...OURS.map((p) => p[0]), ...JEPSEN.map((p) => p[0]), 'heal', 'resume'),
    );
    fc.assert(
      fc.property(names, (f) => {
        const opened = classifyFaultEvent(f, nothingOpen);
        if (opened.edge !== 'open') {
          expect(() => closingEventFor(f)).toThrow(/opens no fault/);
          return;
        }
        const closer = closingEventFor(f);
        expect(classifyFaultEvent(closer, (k) => k === opened.kind)).toEqual({
          kind: opened.kind,
          edge: 'close',
        });
      }),
      { numRuns: 500 },
    );
  });

  it('a clock fault still open at the heal is closed by the event the heal records', () => {
    // The runner's heal: heal-all-start, one closing event per fault still open, heal-all-stop.
    // The old runner closed `clock-offset` with `clock-offset-stop`, which closes nothing.
    expect(
      nemesisIntervals([
        nemesis(1, 'clock-offset'),
        nemesis(5, 'heal-all-start'),
        nemesis(6, 'clock-offset-stop'),
        nemesis(7, 'heal-all-stop'),
      ]).find((iv) => iv.kind === 'clock')?.end,
    ).toBe(Number.POSITIVE_INFINITY);
    const healed = nemesisIntervals([
      nemesis(1, 'clock-offset'),
      nemesis(5, 'heal-all-start'),
      nemesis(6, closingEventFor('clock-offset')),
      nemesis(7, 'heal-all-stop'),
    ]);
    expect(healed.find((iv) => iv.kind === 'clock')).toMatchObject({ start: 1, end: 6 });
  });

  it('after a kill, start restarts the node; otherwise it opens a generic fault', () => {
    expect(classifyFaultEvent('start', (k) => k === 'kill')).toEqual({
      kind: 'kill',
      edge: 'close',
    });
    expect(classifyFaultEvent('start', nothingOpen)).toEqual({ kind: 'fault', edge: 'open' });
    expect(classifyFaultEvent('bump-clock', nothingOpen)).toEqual({
      kind: 'bump-clock',
      edge: 'instant',
    });
  });
});

describe("a nemesis's own kinds, given as a table", () => {
  const style = (kind: string, open: string, close: string): FaultStyle => ({
    kind,
    open,
    close,
    label: kind,
    colour: '#000000',
  });
  const styles = [
    style('wipe', 'wipe-disk', 'restore-disk'),
    style('cpu', 'hog-start', 'hog-stop'),
    style('kill', 'kill', 'start'),
  ];

  it('pairs names no rule knows', () => {
    expect(classifyFaultEvent('wipe-disk', nothingOpen)).toEqual({
      kind: 'wipe-disk',
      edge: 'instant',
    });
    expect(classifyFaultEvent('wipe-disk', nothingOpen, styles)).toEqual({
      kind: 'wipe',
      edge: 'open',
    });
    expect(classifyFaultEvent('restore-disk', (k) => k === 'wipe', styles)).toEqual({
      kind: 'wipe',
      edge: 'close',
    });
    // A closer of a fault not in effect still closes its kind (as `resume` does).
    expect(classifyFaultEvent('restore-disk', nothingOpen, styles)).toEqual({
      kind: 'wipe',
      edge: 'close',
    });
    expect(closingEventFor('wipe-disk', styles)).toBe('restore-disk');
    expect(() => closingEventFor('wipe-disk')).toThrow(/opens no fault/);
    const [iv] = nemesisIntervals([nemesis(1, 'wipe-disk'), nemesis(2, 'restore-disk')], styles);
    expect(iv).toMatchObject({
      kind: 'wipe',
      label: 'wipe-disk',
      start: 1,
      end: 2,
      interval: true,
    });
  });

  it("is looked up before the rules: its kind wins over the name's", () => {
    expect(classifyFaultEvent('hog-start', nothingOpen)).toEqual({ kind: 'hog', edge: 'open' });
    expect(classifyFaultEvent('hog-start', nothingOpen, styles)).toEqual({
      kind: 'cpu',
      edge: 'open',
    });
  });

  it("a closer that is also Jepsen's opener still opens when its kind is not in effect", () => {
    expect(classifyFaultEvent('start', nothingOpen, styles)).toEqual({
      kind: 'fault',
      edge: 'open',
    });
    expect(classifyFaultEvent('start', (k) => k === 'kill', styles)).toEqual({
      kind: 'kill',
      edge: 'close',
    });
  });
});
