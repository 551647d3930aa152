import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime } from '../support/runtime.ts';

// What an operator reads: the handlers' structured JSON logs and the business metrics
// (Powertools EMF lines, which CloudWatch turns into metrics on AWS), as the local
// runtime prints them on stdout.

let runtime: LocalRuntime;
const lines: string[] = [];
let restore: () => void = () => undefined;

beforeAll(async () => {
  runtime = await startTestRuntime({ logLevel: 'INFO', metrics: true });
  await registerFactories(runtime, 'factory-1');
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return write(chunk as never, ...(rest as []));
  }) as typeof process.stdout.write;
  restore = () => {
    process.stdout.write = write;
  };
});
afterAll(async () => {
  restore();
  await runtime?.stop();
});

const json = () =>
  lines.flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as unknown;
      return typeof parsed === 'object' && parsed !== null ? [parsed as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });

type Emf = { _aws: { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] } } & Record<string, unknown>;

/** Each business metric summed over every EMF line, in the c2m namespace. */
const metricTotals = () => {
  const totals: Record<string, number> = {};
  for (const line of json()) {
    const emf = (line as Partial<Emf>)._aws?.CloudWatchMetrics;
    if (!emf) continue;
    for (const group of emf) {
      expect(group.Namespace).toBe('c2m');
      for (const { Name } of group.Metrics) totals[Name] = (totals[Name] ?? 0) + Number(line[Name]);
    }
  }
  return totals;
};

describe('Logs and metrics on the local runtime', () => {
  it('When a buyer pre-orders, is refused by the cap and cancels, each is a JSON log line with the request and principal, and a business metric', async () => {
    const anchor = clientFor(runtime, 'anchor', 'anchor-obs');
    const first = clientFor(runtime, 'buyer', 'buyer-obs-1');
    const second = clientFor(runtime, 'buyer', 'buyer-obs-2');
    const campaign = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ maxTotalQuantity: 2, minTotalQuantity: 0 }));
    expect(campaign.status).toBe(201);
    const campaignId = campaign.body.campaignId;

    const placed = await first.post<{ preorderId: string }>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ quantity: 2 }));
    expect(placed.status).toBe(202);
    expect((await second.post(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ quantity: 1 }))).status).toBe(409);
    expect((await first.post(`/v1/preorders/${placed.body.preorderId}/cancel`)).status).toBe(200);

    const logs = json().filter((l) => typeof l.message === 'string' && l.campaignId === campaignId);
    const accepted = logs.find((l) => l.message === 'pre-order accepted');
    expect(accepted).toMatchObject({ level: 'INFO', principal: 'buyer:buyer-obs-1', preorderId: placed.body.preorderId, quantity: 2 });
    expect(accepted?.requestId).toEqual(expect.any(String));
    expect(accepted?.timestamp).toEqual(expect.any(String));
    const refused = logs.find((l) => l.message === 'pre-order refused: the campaign cap is reached');
    expect(refused).toMatchObject({ level: 'INFO', principal: 'buyer:buyer-obs-2' });
    expect(refused?.requestId).not.toBe(accepted?.requestId);
    expect(logs.find((l) => l.message === 'pre-order cancelled and refunded')).toMatchObject({
      principal: 'buyer:buyer-obs-1',
      preorderId: placed.body.preorderId,
    });

    expect(metricTotals()).toMatchObject({ CampaignsCreated: 1, PreordersAccepted: 1, PreordersRefusedByCap: 1, PreordersCancelled: 1 });
  });
});
