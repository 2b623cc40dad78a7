import { describe, expect, it } from 'vitest';
import { parseJepsenLogHistory } from './jepsen-log.js';

describe('Jepsen log lines', () => {
  it('reads both log layouts, errors after the value, and :nemesis; skips other lines', () => {
    const text = [
      'INFO  jepsen.core - Running test',
      '2017-03-29 18:48:19,473{GMT}\tINFO\t[jepsen worker 2] jepsen.util: 2\t:invoke\t:cas\t[1 2]',
      'INFO  jepsen.util - 2\t:fail\t:cas\t[1 2]\t:precondition-failed',
      'INFO  jepsen.util - :nemesis\t:info\t:start\t{"n1" #{"n2" "n3"}}',
      'INFO  jepsen.util - Waiting for recovery',
      '',
    ].join('\n');
    const h = parseJepsenLogHistory(text, 'j.log');
    expect(h.events).toEqual([
      { index: 0, time: 0, process: 2, type: 'invoke', f: 'cas', value: [1, 2] },
      {
        index: 1,
        time: 1,
        process: 2,
        type: 'fail',
        f: 'cas',
        value: [1, 2],
        error: 'precondition-failed',
      },
      {
        index: 2,
        time: 2,
        process: 'nemesis',
        type: 'info',
        f: 'start',
        value: { n1: ['n2', 'n3'] },
      },
    ]);
    expect(h.lines).toEqual([2, 3, 4]);
    expect(h.warnings).toEqual([]);
  });

  it('names the line and field of a bad op line', () => {
    expect(() => parseJepsenLogHistory('INFO  jepsen.util - 1\t:ok\t:read\n\n', 'j.log')).toThrow(
      'j.log:1: field "value": missing: expected <process> <type> <f> <value> separated by tabs',
    );
    expect(() => parseJepsenLogHistory('INFO  jepsen.util - 1\tok\t:read\tnil\n', 'j.log')).toThrow(
      'j.log:1: field "type": expected a keyword like :invoke, got "ok"',
    );
  });

  it('refuses a log with no op lines at all', () => {
    expect(() => parseJepsenLogHistory('INFO  jepsen.core - Running test\n', 'j.log')).toThrow(
      /^j\.log: no Jepsen op lines in this log/,
    );
    expect(parseJepsenLogHistory('', 'j.log').events).toEqual([]);
  });
});
