import { describe, expect, it } from 'vitest';
import { checkElle } from './check.js';
import { renderElleReport } from './report.js';
import { completions, ok, sequential, txnHistory } from './testing/histories.js';

describe('renderElleReport', () => {
  it('draws the smallest cycle of each class, one lane per txn and an arrow per edge', () => {
    const history = txnHistory(
      sequential([ok(0, ['append', 'x', 1]), ok(1, ['r', 'x', []], ['r', '<y>', []])]),
      'list-append',
    );
    const r = checkElle(history, { workload: 'list-append' });
    const page = renderElleReport('h<1>.edn', r, 4);
    expect(page).toContain('<h1>h&lt;1&gt;.edn: INVALID</h1>');
    expect(page).toContain('<h2>G-single-realtime <small>(1 found)</small></h2>');
    expect(page.match(/<rect /g)).toHaveLength(2);
    expect(page.match(/marker-end="url\(#head-(realtime|rw)\)"/g)).toHaveLength(2);
    expect(page).toContain('T1 &lt; T0 (rw): T1 read key &quot;x&quot; as []');
    expect(page).toContain('<code>[r &quot;x&quot; []] [r &quot;&lt;y&gt;&quot; []]</code>');
  });

  it('lists non-cycle anomalies in words, and says when there are no invocations', () => {
    const r = checkElle(txnHistory(completions([ok(0, ['r', 'x', [1, 1]])]), 'list-append'), {
      workload: 'list-append',
    });
    const page = renderElleReport('dup', r, 1);
    expect(page).not.toContain('<svg');
    expect(page).toMatch(/duplicate-elements .*holds an element more than once/s);
    expect(page).toContain('realtime edges cannot be inferred');
  });
});
