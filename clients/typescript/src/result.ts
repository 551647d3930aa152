import { C2mApiError } from './errors.ts';
import { retryAfterMs } from './transport.ts';

/** Which call each answer was for (`METHOD path`), to name it in errors. */
export const operationOfResponse = new WeakMap<Response, string>();

/** The shape of an openapi-fetch answer. */
export interface FetchResult<D> {
  readonly data?: D;
  readonly error?: unknown;
  readonly response: Response;
}

/**
 * The data of a successful answer from `c2m.raw`, or a thrown {@link C2mApiError} carrying the
 * problem body (a 429 or 503 with how long it asked to wait). `now` dates a Retry-After given
 * as an HTTP date.
 */
export const unwrap = <D>(result: FetchResult<D>, now: () => number = Date.now): D => {
  const { response } = result;
  if (response.ok) return result.data as D;
  const operation = operationOfResponse.get(response) ?? (response.url ? new URL(response.url).pathname : 'request');
  const wait = response.status === 429 || response.status === 503 ? retryAfterMs(response.headers.get('retry-after'), now()) : undefined;
  throw new C2mApiError({ status: response.status, operation, body: result.error, ...(wait !== undefined && { retryAfterMs: wait }) });
};
