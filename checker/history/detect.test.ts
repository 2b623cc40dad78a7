import { describe, expect, it } from 'vitest';
import { detectFormatFromText } from './detect.js';
import { HistoryError } from './errors.js';

describe('format detection', () => {
  it.each([
    ['h.txt', '{"index":0,"time":0,"process":0,"type":"invoke","f":"read"}\n', 'jsonl'],
    ['h.txt', '{ "index": 0 }\n', 'jsonl'],
    ['h.txt', '; comment\n[{:process 0, :type :invoke, :f :read, :value nil}\n', 'edn'],
    ['h.txt', '({:type :invoke, :f :cas, :value [1 4], :process 101, :time 99286665244}\n', 'edn'],
    ['h.txt', '{:process 0, :type :invoke, :f :append, :key "0", :value "x"}\n', 'edn-lines'],
    ['h.txt', '{:process 0,\n :type :invoke}\n', 'edn'],
    ['h.txt', 'some preamble\nINFO  jepsen.util - 0\t:invoke\t:read\tnil\n', 'jepsen-log'],
    [
      'jepsen.log',
      '2017-03-29 18:48:19,473{GMT}\tINFO\t[jepsen worker 2] jepsen.util: 2\t:invoke\t:read\tnil\n',
      'jepsen-log',
    ],
    ['h.edn', '#jepsen.history.Op{:index 0, :type :invoke, :process 0, :f :read}\n', 'edn'],
    ['history.jsonl', '', 'jsonl'],
    ['history.jsonl', 'garbage\n', 'jsonl'],
    ['run.log', 'nothing but noise\n', 'jepsen-log'],
    ['history.jsonl', '\n\n', 'jsonl'],
  ] as const)('%s %j → %s', (file, head, format) => {
    expect(detectFormatFromText(file, head)).toBe(format);
  });

  it('says what it expected when it cannot tell', () => {
    expect(() => detectFormatFromText('h.edn', '')).toThrow(HistoryError);
    expect(() => detectFormatFromText('x.csv', 'a,b,c\n')).toThrow(
      /^x\.csv: cannot tell the history format from its first line "a,b,c": expected JSON event objects/,
    );
  });
});
