import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime, untilDrained } from '../support/runtime.ts';

/**
 * Attribution (issue 16), over HTTP against the local runtime: pre-orders name
 * the live room, session and affiliate they came from; the campaign's owner reads
 * units, GMV and commission per source, net of refunds, as JSON and as CSV.
 */
let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;

beforeAll(async () => {
  runtime = await startTestRuntime();
  anchor = clientFor(runtime, 'anchor', 'anchor-attr');
  await registerFactories(runtime, 'factory-1');
});
afterAll(() => runtime?.stop());

type Problem = { status: number; errors?: { path: string; message: string }[] };
type Row = { source?: { liveRoomId: string; sessionId?: string; affiliateId?: string }; preorders: number; units: number; refundedUnits: number; netUnits: number; gmv: number; refunded: number; netGmv: number; anchorCommission: number; affiliateCommission: number };
type Attribution = { campaignId: string; currency: string; commission?: { anchorPercent: number; affiliatePercent: number }; items: Row[]; totals: Omit<Row, 'source'> };

const buyer = (n: number) => clientFor(runtime, 'buyer', `buyer-attr-${n}`);

describe('Attribution', () => {
  it('Units, GMV and commission per source, net of refunds, biggest first; as CSV with a total row', async () => {
    const created = await anchor.post<{ campaignId: string; commission: unknown }>(
      '/v1/campaigns',
      campaignDraft({ liveRoomIds: ['room-a', 'room-b'], commission: { anchorPercent: 20, affiliatePercent: 5 } }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.commission).toEqual({ anchorPercent: 20, affiliatePercent: 5 });
    const id = created.body.campaignId;
    const viaAffiliate = { liveRoomId: 'room-a', sessionId: 'live-1130', affiliateId: 'aff-mei' };
    const place = async (n: number, body: Record<string, unknown>) => {
      const r = await buyer(n).post<{ preorderId: string; source?: unknown }>(`/v1/campaigns/${id}/preorders`, preorderDraft(body));
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      return r.body;
    };
    const first = await place(1, { quantity: 2, source: viaAffiliate });
    expect(first.source).toEqual(viaAffiliate);
    const cancelled = await place(2, { quantity: 1, source: viaAffiliate });
    await place(3, { quantity: 3, source: { liveRoomId: 'room-b' } });
    await place(4, { quantity: 1 });
    expect((await buyer(2).post(`/v1/preorders/${cancelled.preorderId}/cancel`)).status).toBe(200);

    // A room the campaign does not name is no source of it: 400 naming the field, nothing placed.
    const foreign = await buyer(5).post<Problem>(`/v1/campaigns/${id}/preorders`, preorderDraft({ source: { liveRoomId: 'room-z' } }));
    expect(foreign.status).toBe(400);
    expect(foreign.body.errors?.map((e) => e.path)).toEqual(['source.liveRoomId']);
    const badSource = await buyer(5).post<Problem>(`/v1/campaigns/${id}/preorders`, preorderDraft({ source: { liveRoomId: 'room-a', affiliateId: 'has space' } }));
    expect(badSource.status).toBe(400);
    expect(badSource.body.errors?.map((e) => e.path)).toEqual(['source.affiliateId']);

    // Pre-orders are listed once intake has read them: a moment after their 202.
    const read = () => anchor.get<Attribution>(`/v1/campaigns/${id}/attribution`).then((r) => r.body);
    const a = await untilDrained(runtime, read, (x) => x.totals?.preorders === 4);
    const price = 12900;
    expect(a).toEqual({
      campaignId: id,
      currency: 'CNY',
      commission: { anchorPercent: 20, affiliatePercent: 5 },
      items: [
        { source: { liveRoomId: 'room-b' }, preorders: 1, units: 3, refundedUnits: 0, netUnits: 3, gmv: 3 * price, refunded: 0, netGmv: 3 * price, anchorCommission: 7740, affiliateCommission: 0 },
        { source: viaAffiliate, preorders: 2, units: 3, refundedUnits: 1, netUnits: 2, gmv: 3 * price, refunded: price, netGmv: 2 * price, anchorCommission: 5160, affiliateCommission: 1290 },
        { preorders: 1, units: 1, refundedUnits: 0, netUnits: 1, gmv: price, refunded: 0, netGmv: price, anchorCommission: 2580, affiliateCommission: 0 },
      ],
      totals: { preorders: 4, units: 7, refundedUnits: 1, netUnits: 6, gmv: 7 * price, refunded: price, netGmv: 6 * price, anchorCommission: 15480, affiliateCommission: 1290 },
    });

    const csv = await fetch(`${runtime.url}/v1/campaigns/${id}/attribution`, {
      headers: { accept: 'text/csv', authorization: `Bearer ${await runtime.token('anchor', 'anchor-attr')}` },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const bytes = Buffer.from(await csv.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // the BOM spreadsheets read UTF-8 by
    expect(bytes.subarray(3).toString('utf8').split('\r\n')).toEqual([
      'row,liveRoomId,sessionId,affiliateId,preorders,units,refundedUnits,netUnits,currency,gmv,refunded,netGmv,anchorCommission,affiliateCommission',
      'source,room-b,,,1,3,0,3,CNY,387.00,0.00,387.00,77.40,0.00',
      'source,room-a,live-1130,aff-mei,2,3,1,2,CNY,387.00,129.00,258.00,51.60,12.90',
      'source,,,,1,1,0,1,CNY,129.00,0.00,129.00,25.80,0.00',
      'total,,,,4,7,1,6,CNY,903.00,129.00,774.00,154.80,12.90',
      '',
    ]);

    // The owner's alone: another anchor does not see the campaign, a buyer may not ask.
    expect((await clientFor(runtime, 'anchor', 'anchor-other').get(`/v1/campaigns/${id}/attribution`)).status).toBe(404);
    expect((await buyer(1).get(`/v1/campaigns/${id}/attribution`)).status).toBe(403);
    // Terms the buyers were sold under: commission does not change while the campaign is open.
    const change = await anchor.patch<Problem>(`/v1/campaigns/${id}`, { commission: { anchorPercent: 30, affiliatePercent: 5 } });
    expect(change.status).toBe(409);
    expect(change.body.errors?.map((e) => e.path)).toEqual(['commission']);
  });

  it('A campaign without commission owes none; bad commission terms are a 400 naming the field', async () => {
    const plain = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft());
    await buyer(6).post(`/v1/campaigns/${plain.body.campaignId}/preorders`, preorderDraft({ source: { liveRoomId: 'any-room', affiliateId: 'aff-1' } }));
    const a = await untilDrained(runtime, () => anchor.get<Attribution>(`/v1/campaigns/${plain.body.campaignId}/attribution`).then((r) => r.body), (x) => x.totals?.preorders === 1);
    expect(a.commission).toBeUndefined();
    expect(a.items).toEqual([expect.objectContaining({ source: { liveRoomId: 'any-room', affiliateId: 'aff-1' }, netGmv: 12900, anchorCommission: 0, affiliateCommission: 0 })]);

    for (const [commission, path] of [
      [{ anchorPercent: 120, affiliatePercent: 0 }, 'commission.anchorPercent'],
      [{ anchorPercent: 80, affiliatePercent: 30 }, 'commission.affiliatePercent'],
      [{ anchorPercent: 10.125, affiliatePercent: 0 }, 'commission.anchorPercent'],
      [{ anchorPercent: 10 }, 'commission.affiliatePercent'],
    ] as const) {
      const r = await anchor.post<Problem>('/v1/campaigns', campaignDraft({ commission }));
      expect(r.status, JSON.stringify(commission)).toBe(400);
      expect(r.body.errors?.map((e) => e.path), JSON.stringify(commission)).toEqual([path]);
    }
  });
});
