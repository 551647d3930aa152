import { randomUUID } from 'node:crypto';
import { expect, vi } from 'vitest';
import type { C2mClient } from '@c2m/factory-client';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, untilDrained } from './runtime.ts';

/**
 * What the factory client's tests share: a watch on its traffic (through the client's own
 * `fetch` option: every request passed on, none answered by the test), a world of an operator,
 * an anchor and a buyer on one runtime, and waits made by moving the clock.
 */
export type Seen = { method: string; path: string; status: number };

/** A fetch that passes every request on and writes down what was asked and answered. */
export const watched = (traffic: Seen[]) => async (request: Request) => {
  const response = await fetch(request);
  traffic.push({ method: request.method, path: new URL(request.url).pathname, status: response.status });
  return response;
};
export const tokenRequests = (traffic: Seen[]) => traffic.filter((t) => t.method === 'POST' && t.path.endsWith('/oidc/token')).length;
export const apiCalls = (traffic: Seen[]) => traffic.filter((t) => t.path.startsWith('/v1/factory/'));

/** The world of one runtime: an operator who registers factories, an anchor and a buyer. */
export const worldOf = (runtime: LocalRuntime) => {
  const operator = clientFor(runtime, 'operator', 'operator-client-tests');
  const anchor = clientFor(runtime, 'anchor', 'anchor-client-tests');
  const buyer = clientFor(runtime, 'buyer', 'buyer-client-tests');
  return {
    /** Registers a factory as an operator does; its credentials are shown once, here. */
    register: async (prefix: string) => {
      const factoryId = `${prefix}-${randomUUID().slice(0, 8)}`;
      const r = await operator.post<{ clientId: string; clientSecret: string }>('/v1/operator/factories', { factoryId, name: `Works ${factoryId}` });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return { factoryId, clientId: r.body.clientId, clientSecret: r.body.clientSecret };
    },
    revoke: async (factoryId: string) => expect((await operator.post(`/v1/operator/factories/${factoryId}/revoke`)).status).toBe(200),
    /** A campaign for `factoryId` whose `units` pre-orders of one are cut into one batch; the batch as the factory sees it, and the pre-orders' ids. */
    releasedBatch: async (c2m: C2mClient, factoryId: string, units: number) => {
      const created = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ factoryId, minTotalQuantity: units, lotSize: units }));
      expect(created.status).toBe(201);
      const { campaignId } = created.body;
      const preorderIds: string[] = [];
      for (let i = 0; i < units; i++) {
        const r = await buyer.post<{ preorderId: string }>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft());
        expect(r.status).toBe(202);
        preorderIds.push(r.body.preorderId);
      }
      const batches = await untilDrained(
        runtime,
        () => c2m.factory.batches({ status: 'RELEASED' }).all(),
        (bs) => bs.some((b) => b.campaignId === campaignId),
      );
      return { batch: batches.find((b) => b.campaignId === campaignId)!, preorderIds };
    },
  };
};

/** The client's waits, made by moving this process's clock (the runtime's too) instead of sleeping. */
export const clockSleeps = (waits: number[]) => async (ms: number) => {
  waits.push(ms);
  vi.setSystemTime(Date.now() + ms);
};
