/**
 * A stand-in harness for the recorder's SIGKILL test: records client events until it is killed.
 * Usage: node --import tsx record-forever.ts HISTORY_FILE
 */
import { Recorder } from '../recorder.js';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: record-forever.ts HISTORY_FILE');
const recorder = new Recorder(file, { flushIntervalMs: 10 });
let n = 0;
let announced = false;
for (;;) {
  for (let i = 0; i < 200; i++, n++) {
    const p = n % 7;
    recorder.record({ process: p, type: 'invoke', f: 'write', key: `k${n % 3}`, value: n });
    recorder.record({ process: p, type: 'ok', f: 'write', key: `k${n % 3}`, value: n, node: 'n1' });
  }
  if (n % 2000 === 0)
    recorder.record({ process: 'nemesis', type: 'info', f: 'kill', value: ['n2'] });
  // Yield to the event loop so the flush timer runs, as a real run does between ops.
  await new Promise((r) => setTimeout(r, 1));
  if (!announced && recorder.count > 4000) {
    // A phase boundary: everything so far is written; the parent may kill us from here on.
    recorder.flush();
    announced = true;
    process.stdout.write(`flushed ${recorder.count}\n`);
  }
}
