import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * One Logger and Metrics per function, created once at module scope.
 * Service name and namespace come from POWERTOOLS_SERVICE_NAME and
 * POWERTOOLS_METRICS_NAMESPACE, set by both targets.
 *
 * Tracing is Lambda's own (active tracing: a segment per invocation, and the
 * SDK passes the trace header on to SQS, EventBridge and SNS, so a pre-order is
 * followed across functions). Not Powertools' Tracer: it bundles the X-Ray SDK
 * (≈ 110 KB with cls-hooked and semver, and its import at every cold start)
 * for a subsegment per AWS call; decision 32.
 */
export const logger = new Logger();
export const metrics = new Metrics();

export const metricNames = {
  preordersAccepted: 'PreordersAccepted',
  preordersRefusedByCap: 'PreordersRefusedByCap',
  preordersCancelled: 'PreordersCancelled',
  campaignsCreated: 'CampaignsCreated',
  // A pre-order on the table's stream that intake cannot parse: it is left behind (listed and announced by no one), so it pages.
  intakeUnreadableRecord: 'IntakeUnreadableRecord',
  // Intake could not ask for a cut (after retries); the campaign's next pre-orders, tick or close ask again.
  intakeCutNotAsked: 'IntakeCutNotAsked',
} as const;

/** Flushes this invocation's metrics (as EMF on stdout); an invocation that recorded none prints nothing. */
export const flushMetrics = (): void => {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
};

const scope = new AsyncLocalStorage<Logger>();

/**
 * Runs `fn` with a child logger that stamps every line with `keys` (request id,
 * principal). Scoped per call, not appended to the shared logger, so concurrent
 * invocations in one process (the local runtime) never swap each other's keys.
 */
export const withLogKeys = <T>(keys: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> =>
  scope.run(logger.createChild({ persistentKeys: keys }), fn);

/** The logger for the current invocation. */
export const log = (): Logger => scope.getStore() ?? logger;
