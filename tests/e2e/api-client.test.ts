import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { apiClient, HttpTally, politeRetry, type CallOptions, type RetryPolicy } from '../../demo/support/api-client.ts';
import { campaignDraft, preorderDraft, registerFactory } from '../../demo/support/fixtures.ts';
import { startTestRuntime } from '../support/runtime.ts';

/**
 * The HTTP client the demo, the bench and these tests share (demo/support/api-client.ts),
 * against the local gateway's real throttle (429 with Retry-After), set to one request a
 * second. The gateway's bucket is refilled by moving this process's clock, not by sleeping.
 */
describe('The shared API client behind a gateway that allows one request a second', () => {
  let runtime: LocalRuntime;
  let anchorToken: string;
  /** The gateway's second comes round again. */
  const nextSecond = () => vi.setSystemTime(Date.now() + 1_000);

  beforeAll(async () => {
    runtime = await startTestRuntime({ throttle: { rateLimit: 1, burstLimit: 1 } });
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    anchorToken = await runtime.token('anchor', 'anchor-api-client');
  });
  afterAll(async () => {
    await runtime?.stop();
    vi.useRealTimers();
  });

  it('Without a retry policy (the tests), two calls at once: one is served and the other gets the 429 as the API gave it', async () => {
    // Prepare
    nextSecond();
    const tally = new HttpTally();
    const anchor = apiClient({ baseUrl: runtime.url, token: () => anchorToken, tally });

    // Act
    const replies = await Promise.all([anchor.get('/v1/campaigns?mine=true'), anchor.get('/v1/campaigns?mine=true')]);

    // Assess
    expect(replies.map((r) => r.status).sort()).toEqual([200, 429]);
    const throttled = replies.find((r) => r.status === 429)!;
    expect(throttled.headers.get('retry-after')).toBe('1');
    expect(throttled.body).toMatchObject({ status: 429 });
    expect(tally).toMatchObject({ requests: 2, throttled: 0, statuses: { 200: 1, 429: 1 } });
  });

  it('With the polite policy (the demo), the 429 is waited out per Retry-After and sent again, so both calls are served, and the tally says so', async () => {
    // Prepare
    nextSecond();
    const tally = new HttpTally();
    const anchor = apiClient({ baseUrl: runtime.url, token: () => anchorToken, retry: politeRetry, tally });

    // Act
    const started = performance.now();
    const replies = await Promise.all([anchor.get('/v1/campaigns?mine=true'), anchor.get('/v1/campaigns?mine=true')]);

    // Assess
    expect(replies.map((r) => r.status)).toEqual([200, 200]);
    expect(tally.throttled).toBeGreaterThanOrEqual(1);
    expect(tally.statuses).toMatchObject({ 200: 2, 429: tally.throttled });
    expect(tally.requests).toBe(2 + tally.throttled);
    // Retry-After is 1 s: the wait is at least that, whatever the backoff.
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('A retried pre-order keeps its Idempotency-Key, and a CSV comes back as the text sent, byte-order mark and all', async () => {
    // Prepare: the polite policy, but its wait is the controlled clock moved by Retry-After, not a
    // real second slept (on a busy machine the faked Date trails a real sleep, and the retry would
    // find the gateway's second not yet come round).
    const tally = new HttpTally();
    const onTheClock: RetryPolicy = {
      ...politeRetry,
      throttledDelayMs: (_attempt, retryAfterSeconds) => {
        vi.setSystemTime(Date.now() + retryAfterSeconds * 1_000);
        return 0;
      },
    };
    const as = (role: 'operator' | 'anchor' | 'buyer', id: string) =>
      apiClient({ baseUrl: runtime.url, token: () => runtime.token(role, id), retry: onTheClock, tally });
    const anchor = as('anchor', 'anchor-api-client');
    const buyer = as('buyer', 'buyer-api-client');
    nextSecond();
    await registerFactory(as('operator', 'operator-api-client'), 'factory-api-client');
    nextSecond();
    const created = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ factoryId: 'factory-api-client' }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const path = `/v1/campaigns/${created.body.campaignId}/preorders`;

    // Act: two taps at once with one key; the gateway lets one through, the other is retried.
    nextSecond();
    const throttledBefore = tally.throttled;
    const taps = await Promise.all([0, 1].map(() => buyer.post<{ preorderId: string }>(path, preorderDraft(), { idempotencyKey: 'tap-once' })));
    // A campaign lists a pre-order once intake has read it off the table's stream (decision 28), a moment after its 202.
    await runtime.emulator.drain();
    nextSecond();
    const csv = await anchor.get<string>(path, { accept: 'text/csv' });

    // Assess
    expect(tally.throttled - throttledBefore).toBe(1);
    expect(taps.map((t) => t.status)).toEqual([202, 202]);
    expect(taps[1]!.body.preorderId).toBe(taps[0]!.body.preorderId);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.body.charCodeAt(0)).toBe(0xfeff);
    expect(csv.body.trimEnd().split('\r\n')).toHaveLength(2);
    expect(tally.failures).toEqual([]);
  });

  it('Headers passed where options belong are refused before anything is sent, not dropped', async () => {
    // Prepare
    const tally = new HttpTally();
    const anchor = apiClient({ baseUrl: runtime.url, token: () => anchorToken, tally });
    const headersAsOptions = { 'Idempotency-Key': 'k-1' } as unknown as CallOptions;

    // Act, Assess
    await expect(anchor.post('/v1/campaigns', campaignDraft(), headersAsOptions)).rejects.toThrow(/unknown call options Idempotency-Key/);
    expect(tally.requests).toBe(0);
  });
});
