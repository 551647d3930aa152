import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { problemTitles } from '#contracts/common.ts';
import { BalanceNotPayableError, CampaignChangeRefusedError, DomainError, InvalidInputError, LotSplitsOrderTooOftenError, OverloadedError, RefundAmountMismatchError, ServiceUnavailableError, type FieldIssue } from '#domain/errors.ts';
import { log } from '#shared/observability.ts';

/**
 * The one place where errors become HTTP problems (RFC 9457). Anything unknown
 * becomes a 500 that says nothing about internals; the log has the details.
 */
const slug = (name: string) =>
  name
    .replace(/Error$/, '')
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .toLowerCase();

const statusOf: Record<DomainError['kind'], 400 | 401 | 403 | 404 | 409 | 429 | 503> = {
  invalid: 400,
  unavailable: 503,
  overloaded: 429,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
};

export const problem = (
  c: Context,
  status: number,
  detail: string,
  extra: { type?: string; title?: string; errors?: readonly FieldIssue[]; headers?: Record<string, string> } = {},
) => {
  const body = {
    type: extra.type ?? 'about:blank',
    title: extra.title ?? problemTitles[status] ?? 'Error',
    status,
    detail,
    ...(extra.errors && { errors: extra.errors }),
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/problem+json', ...extra.headers },
  });
};

export const zodIssues = (error: ZodError, prefix?: string): FieldIssue[] =>
  error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    const { code, params } = issueCode(issue);
    return { path: prefix ? (path ? `${prefix}.${path}` : prefix) : path || '(body)', message: issue.message, code, ...(params && { params }) };
  });

/** A zod issue's stable name and the values it names; a custom issue carries c2m's own code in its params. */
const issueCode = (issue: ZodError['issues'][number]): { code: string; params?: Record<string, string | number> } => {
  const numeric = (v: unknown) => (typeof v === 'number' || typeof v === 'bigint' ? Number(v) : undefined);
  switch (issue.code) {
    case 'too_small': {
      const minimum = numeric(issue.minimum);
      return { code: 'too_small', ...(minimum !== undefined && { params: { minimum, origin: String(issue.origin) } }) };
    }
    case 'too_big': {
      const maximum = numeric(issue.maximum);
      return { code: 'too_big', ...(maximum !== undefined && { params: { maximum, origin: String(issue.origin) } }) };
    }
    case 'invalid_type':
      return { code: 'invalid_type', params: { expected: String(issue.expected) } };
    case 'invalid_format':
      return { code: 'invalid_format', params: { format: String(issue.format) } };
    case 'custom': {
      const own = (issue.params as { code?: unknown } | undefined)?.code;
      return { code: typeof own === 'string' ? own : 'custom' };
    }
    default:
      return { code: issue.code };
  }
};

/** DynamoDB and the other AWS APIs saying "slow down", after the SDK's own retries. */
const throttlingErrors = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'TooManyRequestsException',
]);

export const errorToProblem = (err: unknown, c: Context): Response => {
  if (err instanceof Error && throttlingErrors.has(err.name)) {
    log().warn('throttled by a dependency', { error: err });
    return errorToProblem(new OverloadedError(), c);
  }
  if (err instanceof DomainError) {
    return problem(c, statusOf[err.kind], err.message, {
      type: `urn:c2m:problem:${slug(err.name)}`,
      ...(err.title !== undefined && { title: err.title }),
      ...((err instanceof InvalidInputError || err instanceof CampaignChangeRefusedError || err instanceof LotSplitsOrderTooOftenError || err instanceof RefundAmountMismatchError || err instanceof BalanceNotPayableError) && { errors: err.errors }),
      ...((err instanceof OverloadedError || err instanceof ServiceUnavailableError) && {
        headers: { 'Retry-After': String(err.retryAfterSeconds) },
      }),
    });
  }
  if (err instanceof HTTPException) {
    const detail = err.status === 400 ? 'The request body is not valid JSON' : err.message || 'Request refused';
    return problem(c, err.status, detail, err.status === 400 ? { errors: [{ path: '(body)', message: detail }] } : {});
  }
  log().error('unhandled error', { error: err as Error });
  return problem(c, 500, 'Something went wrong on our side; it has been logged');
};
