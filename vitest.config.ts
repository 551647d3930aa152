import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // 2 cores, one DynamoDB Local: a little parallelism, not a lot.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
