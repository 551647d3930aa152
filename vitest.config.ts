import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take minutes, started first: on a clean clone vitest has no
 * durations and starts the largest files first, so these (small files, long
 * runs) started last and one worker ran on alone for minutes after the other
 * was done. With durations cached (a second local run) vitest's own order,
 * longest first, already does this.
 */
const slowest = [
  'tests/integration/batch-cutting.test.ts',
  'tests/e2e/fulfillment-properties.test.ts',
  'tests/faults/faults.test.ts',
  'tests/e2e/crash-restart.test.ts',
  'tests/e2e/console-browser.test.ts',
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
