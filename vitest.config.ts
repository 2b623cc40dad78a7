import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'results/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Cluster tests start real processes; keep the 2-core machine from thrashing.
    maxWorkers: 2,
  },
});
