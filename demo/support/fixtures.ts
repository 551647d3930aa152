import type { ApiClient } from './api-client.ts';

/**
 * What the API's clients in this repository (the demo, the bench, the e2e tests) send
 * to set a scene: a valid campaign, a valid pre-order with its shipping address, a
 * factory registered as an operator registers it. One copy, so a change to the
 * contract is made here once and every caller breaks, or passes, together.
 *
 * Written out rather than built from functions/contracts on purpose (as demo/views.ts):
 * these are what an outside client sends over HTTP.
 */
export interface ShippingAddress {
  readonly name: string;
  readonly phone: string;
  readonly line1: string;
  readonly city: string;
  readonly region: string;
  readonly postalCode: string;
  readonly country: string;
}

export const shippingAddress: ShippingAddress = {
  name: 'Li Wei',
  phone: '+86 138 0000 0000',
  line1: '88 Century Avenue',
  city: 'Shanghai',
  region: 'Shanghai',
  postalCode: '200120',
  country: 'CN',
};

/** A valid POST /v1/campaigns body: a linen shirt in two sizes for `factory-1`, open now, closing in an hour. */
export const campaignDraft = (overrides: Record<string, unknown> = {}) => ({
  title: 'Hand-stitched linen shirt',
  factoryId: 'factory-1',
  currency: 'CNY',
  variants: [
    { sku: 'SHIRT-S', name: 'Small', unitPrice: 12900 },
    { sku: 'SHIRT-M', name: 'Medium', unitPrice: 12900 },
  ],
  closesAt: new Date(Date.now() + 3600_000).toISOString(),
  minTotalQuantity: 1,
  lotSize: 50,
  promisedShipDays: 14,
  ...overrides,
});

/** A valid pre-order body for campaignDraft's campaign: one Medium, shipped to `shippingAddress`. */
export const preorderDraft = (overrides: Record<string, unknown> = {}) => ({
  sku: 'SHIRT-M',
  quantity: 1,
  shippingAddress: { ...shippingAddress },
  ...overrides,
});

/** A factory's client credentials, shown once when it is registered; or registered before (409). */
export type FactoryRegistration = { readonly clientId: string; readonly clientSecret?: string } | 'registered-before';

/**
 * Registers a factory as an operator does (POST /v1/operator/factories); a campaign may
 * name only registered factories. A 409 (registered before, say by an earlier run against a
 * kept runtime) is no error; anything else but 201 is.
 */
export const registerFactory = async (operator: Pick<ApiClient, 'post'>, factoryId: string, name = `Factory ${factoryId}`): Promise<FactoryRegistration> => {
  const r = await operator.post<{ clientId?: string; clientSecret?: string }>('/v1/operator/factories', { factoryId, name });
  if (r.status === 201 && typeof r.body.clientId === 'string') {
    return { clientId: r.body.clientId, ...(r.body.clientSecret !== undefined && { clientSecret: r.body.clientSecret }) };
  }
  if (r.status === 409) return 'registered-before';
  throw new Error(`registering ${factoryId}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
};
