import { describe, expect, it } from 'vitest';
import { newCampaign, planCampaignChange, transitionGuardMs, type Campaign } from '../../functions/domain/campaign.ts';
import { campaignCeiling } from '../../functions/domain/fulfillment.ts';
import { csvCell, decimalAmount } from '../../functions/handlers/http/csv.ts';

const now = new Date('2026-11-21T12:00:00.000Z');
const hour = 3600_000;
const draft = {
  title: 'Linen shirt',
  factoryId: 'f-1',
  currency: 'CNY',
  variants: [{ sku: 'S', name: 'Small', unitPrice: 12900 }],
  closesAt: new Date(now.getTime() + 24 * hour).toISOString(),
  minTotalQuantity: 10,
  lotSize: 50,
  promisedShipDays: 14,
};
const open = (extra: Partial<typeof draft> & Record<string, unknown> = {}): Campaign =>
  newCampaign({ campaignId: 'cmp_1', anchorId: 'a', draft: { ...draft, ...extra }, now });
const scheduled = (extra: Record<string, unknown> = {}): Campaign => open({ opensAt: new Date(now.getTime() + 2 * hour).toISOString(), ...extra });

const refusedPaths = (r: ReturnType<typeof planCampaignChange>) => ('refused' in r ? r.refused.map((f) => f.path) : []);

describe('Changing a campaign before it opens', () => {
  it('takes any term; the gates follow the new cap (more units, more gates) and it stays SCHEDULED', () => {
    const c = scheduled({ maxTotalQuantity: 40 });
    const r = planCampaignChange(c, { title: 'Linen shirt, second run', maxTotalQuantity: 4000 }, now);
    if (!('change' in r) || r.change.kind !== 'scheduled') throw new Error(`expected a scheduled change, got ${JSON.stringify(r)}`);
    expect(r.change.next).toMatchObject({ status: 'SCHEDULED', title: 'Linen shirt, second run', maxTotalQuantity: 4000, createdAt: c.createdAt });
    expect(c.gateShards).toBe(5);
    expect(r.change.next.gateShards).toBe(64);
  });

  it('an opening moved to now stays SCHEDULED for the clock or the first pre-order to open, gates first', () => {
    const r = planCampaignChange(scheduled(), { opensAt: new Date(now.getTime() - hour).toISOString() }, now);
    expect('change' in r && r.change.kind === 'scheduled' && r.change.next).toMatchObject({ status: 'SCHEDULED', opensAt: now.toISOString() });
  });

  it('null takes an optional term away (the cap, tiers for the whole campaign, a deposit), a default term back to its default; null for a term it lacks is no change', () => {
    const c = scheduled({ maxTotalQuantity: 40, maxDelayDays: 3, priceTiers: [{ minUnits: 5, unitPrice: 11900 }], payment: { mode: 'deposit', deposit: 2000, balanceWindowHours: 24 } });
    const r = planCampaignChange(c, { maxTotalQuantity: null, maxDelayDays: null, priceTiers: null, payment: null }, now);
    if (!('change' in r) || r.change.kind !== 'scheduled') throw new Error(`expected a scheduled change, got ${JSON.stringify(r)}`);
    const next = r.change.next;
    expect([next.maxTotalQuantity, next.priceTiers, next.payment]).toEqual([undefined, undefined, undefined]);
    expect(next.maxDelayDays).toBe(14);
    // Uncapped now: as many gates as an uncapped campaign has.
    expect(next.gateShards).toBe(64);
    expect(planCampaignChange(scheduled(), { maxTotalQuantity: null, commission: null, switchWindowHours: null }, now)).toEqual({ change: { kind: 'none' } });
  });

  it('refuses while it is about to open: a copy of the old time may be acting on it', () => {
    const c = scheduled({ opensAt: new Date(now.getTime() + transitionGuardMs - 1).toISOString() });
    expect(refusedPaths(planCampaignChange(c, { title: 'x' }, now))).toEqual(['title']);
  });
});

describe('Changing an OPEN campaign keeps every promise made so far', () => {
  it('a field sent with its stored value is no change at all (a client may send the whole form)', () => {
    const c = open({ maxTotalQuantity: 40 });
    expect(planCampaignChange(c, { title: c.title, closesAt: new Date(c.closesAt).toISOString().replace('.000Z', 'Z'), maxTotalQuantity: 40 }, now)).toEqual({ change: { kind: 'none' } });
  });

  it('the cap only rises, and only on a capped campaign', () => {
    expect(planCampaignChange(open({ maxTotalQuantity: 40 }), { maxTotalQuantity: 55 }, now)).toMatchObject({ change: { kind: 'open', capRaisedBy: 15, next: { maxTotalQuantity: 55 } } });
    expect(refusedPaths(planCampaignChange(open({ maxTotalQuantity: 40 }), { maxTotalQuantity: 39 }, now))).toEqual(['maxTotalQuantity']);
    expect(refusedPaths(planCampaignChange(open(), { maxTotalQuantity: 1000 }, now))).toEqual(['maxTotalQuantity']);
  });

  it('the close only moves later, not in its last seconds, and the ceiling keeps counting from the first close', () => {
    const c = open({ maxDelayDays: 14 } as Record<string, unknown>);
    const later = new Date(Date.parse(c.closesAt) + 48 * hour).toISOString();
    const r = planCampaignChange(c, { closesAt: later }, now);
    if (!('change' in r) || r.change.kind !== 'open') throw new Error('expected an open change');
    expect(r.change.closesAtMoved).toBe(true);
    expect(r.change.next).toMatchObject({ closesAt: later, firstClosesAt: c.closesAt });
    // Buyers who ordered before the move were promised from the first close: their ceiling does not move.
    expect(campaignCeiling(r.change.next)).toBe(campaignCeiling(c));
    // A second move keeps the first close.
    const again = planCampaignChange(r.change.next, { closesAt: new Date(Date.parse(later) + hour).toISOString() }, now);
    expect('change' in again && again.change.kind === 'open' && again.change.next.firstClosesAt).toBe(c.closesAt);

    expect(refusedPaths(planCampaignChange(c, { closesAt: new Date(Date.parse(c.closesAt) - hour).toISOString() }, now))).toEqual(['closesAt']);
    const closing = new Date(Date.parse(c.closesAt) - transitionGuardMs + 1);
    expect(refusedPaths(planCampaignChange(c, { closesAt: later }, closing))).toEqual(['closesAt']);
  });

  it('live rooms are added, never dropped, and a campaign counting every room keeps doing so', () => {
    const c = open({ liveRoomIds: ['r1'] } as Record<string, unknown>);
    expect(planCampaignChange(c, { liveRoomIds: ['r1', 'r2'] }, now)).toMatchObject({ change: { kind: 'open', next: { liveRoomIds: ['r1', 'r2'] } } });
    expect(refusedPaths(planCampaignChange(c, { liveRoomIds: ['r2'] }, now))).toEqual(['liveRoomIds']);
    expect(refusedPaths(planCampaignChange(open(), { liveRoomIds: ['r1'] }, now))).toEqual(['liveRoomIds']);
  });

  it('every other field is refused by name, all of them at once, and nothing of the change is applied', () => {
    const r = planCampaignChange(open({ maxTotalQuantity: 40 }), { maxTotalQuantity: 50, title: 'New', lotSize: 5, variants: [] }, now);
    expect(refusedPaths(r)).toEqual(['title', 'lotSize', 'variants']);
  });

  it('no term is taken away while it sells: null is refused by name', () => {
    const c = open({ maxTotalQuantity: 40, priceTiers: [{ minUnits: 5, unitPrice: 11900 }], liveRoomIds: ['room-1'] });
    const r = planCampaignChange(c, { maxTotalQuantity: null, priceTiers: null, liveRoomIds: null }, now);
    expect('refused' in r && r.refused.map((f) => [f.path, f.code])).toEqual([
      ['maxTotalQuantity', 'only_before_open'],
      ['priceTiers', 'only_before_open'],
      ['liveRoomIds', 'only_before_open'],
    ]);
  });

  it('a CLOSED or FAILED campaign refuses every change', () => {
    const closed: Campaign = { ...open(), status: 'CLOSED' };
    expect(refusedPaths(planCampaignChange(closed, { closesAt: new Date(Date.parse(closed.closesAt) + hour).toISOString() }, now))).toEqual(['closesAt']);
  });
});

describe('The CSV an anchor exports', () => {
  it('escapes what a spreadsheet would run as a formula and quotes what would split a cell', () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    for (const lead of ['+', '-', '@', '\t', '\r']) expect(csvCell(`${lead}1`).includes(`'${lead}1`)).toBe(true);
    expect(csvCell('李, 伟')).toBe('"李, 伟"');
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(undefined)).toBe('');
  });

  it('shows money as the decimal amount with the currency’s own digits', () => {
    expect(decimalAmount(12900, 'CNY')).toBe('129.00');
    expect(decimalAmount(5, 'CNY')).toBe('0.05');
    expect(decimalAmount(1200, 'JPY')).toBe('1200');
  });
});
