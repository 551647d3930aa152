import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApi, lambdaHandler } from '../http/app.ts';
import * as routes from '#contracts/routes/service.ts';
import { probeQueue, probeScheduleGroup, probeTable } from '#adapters/health-probes.ts';
import { functionSpec } from '#topology';
import { problem } from '../http/problems.ts';
import { log } from '#shared/observability.ts';
import { oidcDiscoveryUrl } from '#shared/config.ts';

/**
 * Where the OpenAPI document is: on Lambda, next to the bundle (HouseFunction
 * copies it there, `bundledFiles`); run from source (the local runtime, tests),
 * the committed file itself. Either way the one `npm run client:generate` wrote
 * from the routes (functions/contracts/openapi-document.ts), which
 * tests/infra/client-generated.test.ts keeps current: built once, not by every
 * cold start, and no function bundles the generator (decision 32).
 */
const documentFile = (): string =>
  process.env.LAMBDA_TASK_ROOT
    ? join(process.env.LAMBDA_TASK_ROOT, 'openapi.json')
    : fileURLToPath(new URL('../../../clients/typescript/openapi.json', import.meta.url));

let document: { readonly discovery: string; readonly body: Record<string, unknown> } | undefined;

/** The document with this deployment's issuer in its security scheme (the file names a placeholder). */
const openApiDocument = (): Record<string, unknown> => {
  const discovery = oidcDiscoveryUrl();
  if (document?.discovery === discovery) return document.body;
  const body = JSON.parse(readFileSync(documentFile(), 'utf8')) as Record<string, unknown> & {
    components?: { securitySchemes?: { oidc?: { openIdConnectUrl?: string } } };
  };
  const oidc = body.components?.securitySchemes?.oidc;
  if (!oidc) throw new Error('the OpenAPI document has no oidc security scheme');
  oidc.openIdConnectUrl = discovery;
  document = { discovery, body };
  return body;
};

/** What health reads, as the topology grants it: the table, these queues, the schedule group. */
const probed = functionSpec('service-api').access.health;

interface Check {
  /** As api.md names it: storage (the table), queues, schedules. */
  readonly name: 'table' | 'queues' | 'schedules';
  readonly probes: ReadonlyArray<{ readonly what: string; readonly run: () => Promise<void> }>;
}

/** Each dependency, and the probes that prove it answers; a dependency with nothing to probe is left out. */
const checks: readonly Check[] = ([
  { name: 'table', probes: [{ what: 'table', run: probeTable }] },
  { name: 'queues', probes: (probed?.queues ?? []).map((queue) => ({ what: queue, run: () => probeQueue(queue) })) },
  { name: 'schedules', probes: probed?.scheduleGroup ? [{ what: 'schedule group', run: probeScheduleGroup }] : [] },
] satisfies Check[]).filter((check) => check.probes.length > 0);

/** How long one round of probes answers health: a flood of health checks (a load balancer, a monitor, an attacker) probes once per container per this. */
export const healthCacheMs = 5_000;

/** A round of probes: which dependencies failed, and how; shared by every request in its few seconds. */
interface HealthRound {
  readonly at: number;
  readonly down: Promise<ReadonlyArray<{ readonly check: Check['name']; readonly what: string; readonly error: string }>>;
}
let round: HealthRound | undefined;

const probeAll = async () => {
  const results = await Promise.all(
    checks.map(async (check) => {
      const outcomes = await Promise.allSettled(check.probes.map((p) => p.run()));
      return check.probes.flatMap((p, i) => {
        const outcome = outcomes[i];
        return outcome?.status === 'rejected' ? [{ check: check.name, what: p.what, error: String(outcome.reason) }] : [];
      });
    }),
  );
  const down = results.flat();
  // What is down, by name, goes to the log (and the 5xx alarm), not to an anonymous caller.
  if (down.length > 0) log().error('health: dependencies not answering', { down });
  return down;
};

/** The current round's result: probed at most once per `healthCacheMs`, concurrent callers waiting on the same probes. */
const healthNow = (): HealthRound['down'] => {
  const now = Date.now();
  if (!round || now - round.at >= healthCacheMs || now < round.at) round = { at: now, down: probeAll() };
  return round.down;
};

export const app = createApi()
  .openapi(routes.health, async (c) => {
    // Anyone may ask, without a token: the answer says up or down and nothing of what is inside.
    const down = await healthNow();
    if (down.length > 0) return problem(c, 503, 'Not up') as never;
    return c.json({ status: 'ok' as const }, 200);
  })
  .openapi(routes.openapiDocument, (c) => c.json(openApiDocument() as Record<string, unknown>, 200));

export const handler = lambdaHandler(app);
