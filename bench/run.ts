/**
 * `npm run bench [-- NAME...]`: runs every `bench/*.bench.ts` (or those whose name contains one
 * of the given words). Each bench module exports `name` and `run()`, and prints its own
 * throughput and ratios. Benchmarks are measurements, never pass/fail tests.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface BenchModule {
  name: string;
  run(): Promise<void>;
}

const dir = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();

if (files.length === 0) {
  process.stderr.write(`no benchmark matches ${filters.join(', ')}\n`);
  process.exit(3);
}
for (const file of files) {
  const mod = (await import(new URL(file, import.meta.url).href)) as BenchModule;
  process.stdout.write(`\n### ${mod.name} (${file})\n`);
  await mod.run();
}
