import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take minutes, started first: on a clean clone vitest has no
 * durations and starts the largest files first, so these (small files, long
 * runs) started last and one worker ran on alone for minutes after the other
 * was done. With durations cached (a second local run) vitest's own order,
 * longest first, already does this.
 */
// Longest first (their times in a clean-clone run, 2026-12-02): each worker takes the next file as it frees up, so
// starting the longest first leaves only short files for the end, when one worker may otherwise run on alone.
const slowest = [
  'tests/e2e/fulfillment-properties.test.ts', // 250 s
  'tests/faults/faults.test.ts', // 248 s
  'tests/integration/batch-cutting.test.ts', // 182 s
  'tests/e2e/crash-restart.test.ts', // 90 s
  'tests/e2e/console-browser.test.ts', // 75 s
  'tests/e2e/demo.test.ts', // 60 s
  'tests/infra/bundles.test.ts', // 47 s
  'tests/e2e/broken-promises.test.ts', // 35 s
  'tests/e2e/deposit-balance.test.ts', // 33 s
  'tests/e2e/fuzz.test.ts', // 32 s
];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = slowest.findIndex((s) => f.moduleId.endsWith(s));
      return i < 0 ? slowest.length : i;
    };
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map((x) => x.f);
  }
}

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // 2 cores, one DynamoDB Local: a little parallelism, not a lot.
    maxWorkers: 2,
    // Node 20 is what engines promises; the SDK's notice about 2027 is in the README.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    fileParallelism: true,
    sequence: { sequencer: SlowestFirst },
  },
});
