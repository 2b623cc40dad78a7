#!/usr/bin/env node
// The CLI entry point: runs the compiled CLI (npm run build produces dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    'faultline is not built yet: run `npm run build` in the faultline folder first.\n',
  );
  process.exit(3);
}
await import(main.href);
