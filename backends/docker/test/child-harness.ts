// A harness that starts a docker cluster of stand-in nodes, prints one line when it is up,
// and waits to be killed: the clean test SIGKILLs it and checks what `clean()` finds.
import { standinCluster } from './standin-image.js';

const [runId, logsDir] = process.argv.slice(2);
if (runId === undefined || logsDir === undefined) {
  throw new Error('usage: child-harness.ts RUN_ID LOGS_DIR');
}
await standinCluster(runId, logsDir);
process.stdout.write('up\n');
setInterval(() => undefined, 60_000);
