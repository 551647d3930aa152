import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { C2mApiError, createC2mClient, type RetryEvent } from '@c2m/factory-client';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { clockSleeps, worldOf } from '../support/factory-client.ts';
import { startTestRuntime } from '../support/runtime.ts';

/**
 * The factory client against the local gateway's real throttle (429 with Retry-After), set to
 * one request a second. The client's waits move this process's clock (and so the gateway's
 * token bucket) instead of sleeping.
 */
afterAll(() => vi.useRealTimers());

describe('The factory client behind a gateway that allows one request a second', () => {
  let runtime: LocalRuntime;
  let world: ReturnType<typeof worldOf>;
  beforeAll(async () => {
    runtime = await startTestRuntime({ throttle: { rateLimit: 1, burstLimit: 1 } });
    world = worldOf(runtime);
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  });
  afterAll(() => runtime?.stop());

  /** A factory whose token is fetched (its discovery read the throttled document), with the gateway's second come round again. */
  const readyFactory = async (retry?: { maxAttempts: number }) => {
    vi.setSystemTime(Date.now() + 1_000);
    const { clientId, clientSecret } = await world.register('factory-throttled');
    const waits: number[] = [];
    const retries: RetryEvent[] = [];
    const c2m = createC2mClient({
      baseUrl: runtime.url,
      credentials: { clientId, clientSecret },
      sleep: clockSleeps(waits),
      onRetry: (e) => retries.push(e),
      ...(retry && { retry }),
    });
    vi.setSystemTime(Date.now() + 1_000);
    await c2m.accessToken();
    vi.setSystemTime(Date.now() + 1_000);
    return { c2m, waits, retries };
  };

  it('Two calls at once: the second is answered 429, waited out per Retry-After (1 s and a little jitter), and then served', async () => {
    // Prepare
    const { c2m, waits, retries } = await readyFactory();

    // Act
    const [a, b] = await Promise.all([c2m.factory.trust(), c2m.factory.trust()]);

    // Assess
    expect(a).toBeTypeOf('object');
    expect(b).toBeTypeOf('object');
    expect(retries.map((r) => [r.reason, r.status])).toEqual([['throttled', 429]]);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(1_000);
    expect(waits[0]).toBeLessThanOrEqual(1_200);
  });

  it('Out of tries, the 429 is thrown with how long the API asked to wait', async () => {
    const { c2m, waits } = await readyFactory({ maxAttempts: 1 });

    const answers = await Promise.allSettled([c2m.factory.trust(), c2m.factory.trust()]);

    const refused = answers.flatMap((a) => (a.status === 'rejected' ? [a.reason as unknown] : []));
    expect(answers.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(C2mApiError);
    expect(refused[0]).toMatchObject({ status: 429, retryAfterMs: 1_000, title: 'Too Many Requests' });
    expect(waits).toEqual([]);
  });
});

