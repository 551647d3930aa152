import { describe, expect, it } from 'vitest';
import { awaitsBalance, balanceDueByFrom, balanceOf, balancesToCall, paidOf } from '../../functions/domain/payment.ts';
import { priceNow, stillHeld } from '../../functions/domain/pricing.ts';
import type { Campaign } from '../../functions/domain/campaign.ts';

/** Deposit and balance (domain/payment.ts): what is due, and what is held, per pre-order. */
describe('Deposit and balance rules', () => {
  const deposit = { sku: 'M', quantity: 2, unitPrice: 12900, depositAmount: 4000, depositDiscount: 1000 };

  it('The balance is the price at close less the discount on every unit, less the deposit', () => {
    expect(balanceOf(deposit, undefined)).toEqual({ finalUnitPrice: 11900, balanceDue: 2 * 11900 - 4000 });
    expect(balanceOf(deposit, { M: 9900 })).toEqual({ finalUnitPrice: 8900, balanceDue: 2 * 8900 - 4000 });
    // Another variant's price does not move it; a buyer who switched to a dearer variant keeps their own price.
    expect(balanceOf(deposit, { S: 5000 }).finalUnitPrice).toBe(11900);
    expect(balanceOf({ ...deposit, unitPrice: 9900 }, { M: 11900 }).finalUnitPrice).toBe(8900);
  });

  it('What is paid is the deposit until the balance is; what a refund of the whole pays back is what is still held', () => {
    const placed = { amount: 25800, paidAmount: 4000, refundedAmount: 0 };
    expect(paidOf(placed)).toBe(4000);
    expect(stillHeld(placed)).toBe(4000);
    expect(paidOf({ amount: 25800 })).toBe(25800);
    expect(priceNow({ unitPrice: 12900, depositDiscount: 1000 })).toBe(11900);
    expect(priceNow({ unitPrice: 12900, depositDiscount: 1000, finalUnitPrice: 8900 })).toBe(8900);
  });

  it('Only a waiting deposit pre-order not yet paid awaits its balance', () => {
    expect(awaitsBalance({ depositAmount: 4000, status: 'ACCEPTED' })).toBe(true);
    expect(awaitsBalance({ depositAmount: 4000, status: 'ACCEPTED', balancePaidAt: '2026-12-02T00:00:00Z' })).toBe(false);
    expect(awaitsBalance({ depositAmount: 4000, status: 'REFUNDED' })).toBe(false);
    expect(awaitsBalance({ status: 'ACCEPTED' })).toBe(false);
  });

  it('Balances are called once demand is settled: closed, and no switch window still open', () => {
    const closed = { status: 'CLOSED', payment: { mode: 'deposit', deposit: 2000, balanceWindowHours: 48 } } as unknown as Campaign;
    expect(balancesToCall(closed)).toBe(true);
    expect(balancesToCall({ ...closed, variantsMissed: ['S'] })).toBe(false);
    expect(balancesToCall({ ...closed, variantsMissed: ['S'], switchWindowClosedAt: '2026-12-02T00:00:00Z' })).toBe(true);
    expect(balancesToCall({ ...closed, balancesCalledAt: '2026-12-02T00:00:00Z' })).toBe(false);
    expect(balancesToCall({ ...closed, status: 'FAILED' })).toBe(false);
    expect(balancesToCall({ ...closed, payment: { mode: 'full' } })).toBe(false);
    expect(balanceDueByFrom({ mode: 'deposit', balanceWindowHours: 48 }, new Date('2026-12-02T10:00:00Z'))).toBe('2026-12-04T10:00:00.000Z');
  });
});
