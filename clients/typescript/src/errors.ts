import type { components } from './schema.ts';

/** An error answer of the API (RFC 9457 problem+json): `errors` names each bad field. */
export type Problem = components['schemas']['Problem'];
export type ProblemField = NonNullable<Problem['errors']>[number];

const isProblem = (body: unknown): body is Problem =>
  typeof body === 'object' && body !== null && typeof (body as Problem).status === 'number' && typeof (body as Problem).title === 'string';

/**
 * The API answered, and not with success: a 4xx or 5xx the client did not (or could no
 * longer) retry. Carries the problem body as the API sent it, so a caller can branch on
 * `status` or `type` and show `errors` next to the fields they name.
 */
export class C2mApiError extends Error {
  override readonly name = 'C2mApiError';
  /** The HTTP status. */
  readonly status: number;
  /** `METHOD path` of the request, e.g. `POST /v1/factory/batches/bat_…/accept`. */
  readonly operation: string;
  /** The problem body, when the answer was one (it always is from c2m; a proxy in between may say otherwise). */
  readonly problem?: Problem;
  /** The body as received, when it was not a problem. */
  readonly body?: unknown;
  /** For a 429 or 503 given up on: how long the API asked to wait (ms), to schedule the next try. */
  readonly retryAfterMs?: number;

  constructor(init: { status: number; operation: string; body: unknown; retryAfterMs?: number }) {
    const problem = isProblem(init.body) ? init.body : undefined;
    const fields = problem?.errors?.length ? ` (${problem.errors.map((e) => `${e.path || 'body'}: ${e.message}`).join('; ')})` : '';
    const said = problem ? `${problem.title}: ${problem.detail}${fields}` : typeof init.body === 'string' && init.body ? init.body.slice(0, 300) : 'no problem body';
    super(`${init.operation} → ${init.status} ${said}`);
    this.status = init.status;
    this.operation = init.operation;
    if (problem) this.problem = problem;
    else if (init.body !== undefined && init.body !== '') this.body = init.body;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
  }

  /** The problem's kind, e.g. `urn:c2m:problem:batch-not-accepting`. */
  get type(): string | undefined {
    return this.problem?.type;
  }
  get title(): string | undefined {
    return this.problem?.title;
  }
  get detail(): string | undefined {
    return this.problem?.detail;
  }
  /** Each bad field (`path`, English `message`, and a stable `code` with its `params`); empty when none is named. */
  get errors(): readonly ProblemField[] {
    return this.problem?.errors ?? [];
  }
}

/** The token endpoint (or the discovery on the way to it) refused or failed: no call was made with a token. */
export class C2mAuthError extends Error {
  override readonly name = 'C2mAuthError';
  /** The HTTP status of the answer, if there was one. */
  readonly status?: number;
  /** The OAuth 2.0 error code (RFC 6749 §5.2), e.g. `invalid_client` for a wrong or revoked secret. */
  readonly error?: string;
  readonly errorDescription?: string;

  constructor(message: string, init: { status?: number; error?: string; errorDescription?: string; cause?: unknown } = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    if (init.status !== undefined) this.status = init.status;
    if (init.error !== undefined) this.error = init.error;
    if (init.errorDescription !== undefined) this.errorDescription = init.errorDescription;
  }
}

/**
 * No answer came (refused connection, reset, timeout), and the request was not one that can
 * be sent again without risk, or every try went unanswered. `cause` is the last failure.
 */
export class C2mNetworkError extends Error {
  override readonly name = 'C2mNetworkError';
  readonly operation: string;
  readonly attempts: number;

  constructor(operation: string, attempts: number, cause: unknown) {
    const why = cause instanceof Error ? (cause.cause instanceof Error ? `${cause.message}: ${cause.cause.message}` : cause.message) : String(cause);
    super(`${operation}: no answer after ${attempts} ${attempts === 1 ? 'try' : 'tries'} (${why})`, { cause });
    this.operation = operation;
    this.attempts = attempts;
  }
}
