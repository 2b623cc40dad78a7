import { describe, expect, it } from 'vitest';
import { detectFormatFromText } from './detect.js';
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

describe('Jepsen log lines with spaces for tabs', () => {
  const tabs = [
    'INFO  jepsen.util - 3\t:invoke\t:read\tnil',
    'INFO  jepsen.util - 2\t:invoke\t:cas\t[1 4]',
    'INFO  jepsen.util - 3\t:ok\t:read\t4',
    'INFO  jepsen.util - 2\t:fail\t:cas\t[1 4]\t:precondition-failed',
    'INFO  jepsen.util - :nemesis\t:info\t:start\t{"n1" #{"n2" "n3"}}',
    'INFO  jepsen.util - 1\t:invoke\t:write\t"a b"',
    'INFO  jepsen.util - 1\t:info\t:write\t"a b"\t"timed out"',
    '',
  ].join('\n');

  it('reads runs of spaces, or tabs and spaces mixed, as the tab layout', () => {
    const expected = parseJepsenLogHistory(tabs, 'tabs.log');
    expect(expected.events).toHaveLength(7);
    for (const sep of ['  ', ' ', ' \t ']) {
      const h = parseJepsenLogHistory(tabs.replaceAll('\t', sep), 'spaced.log');
      expect(h).toEqual(expected);
    }
    // The lines as some published logs print them.
    const published = parseJepsenLogHistory(
      'INFO  jepsen.util - 3  :invoke :read  nil\nINFO  jepsen.util - 3  :ok  :read  4\n',
      'p.log',
    );
    expect(published.events).toEqual([
      { index: 0, time: 0, process: 3, type: 'invoke', f: 'read', value: null },
      { index: 1, time: 1, process: 3, type: 'ok', f: 'read', value: 4 },
    ]);
  });

  it('still ignores log messages with spaces, and tells the format from spaced lines', () => {
    const text =
      'INFO  jepsen.util - Waiting for recovery\nINFO  jepsen.util - 2  :ok  :write  4\n';
    expect(parseJepsenLogHistory(text, 'j.log').events).toEqual([
      { index: 0, time: 0, process: 2, type: 'ok', f: 'write', value: 4 },
    ]);
    expect(detectFormatFromText('h.txt', text)).toBe('jepsen-log');
  });

  it('names the field of a bad spaced line', () => {
    expect(() => parseJepsenLogHistory('INFO  jepsen.util - 1  :ok  :read\n\n', 'j.log')).toThrow(
      'j.log:1: field "value": missing: expected <process> <type> <f> <value> separated by tabs or spaces',
    );
    expect(() =>
      parseJepsenLogHistory('INFO  jepsen.util - 1  :ok  :read  1 :e :extra\n', 'j.log'),
    ).toThrow('j.log:1: field "error": expected one EDN value, got ":e :extra"');
  });
});
