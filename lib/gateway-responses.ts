/**
 * Problem bodies (RFC 9457) for the answers the gateway gives before any
 * handler runs: throttling, a refused token, an oversized body, an unknown
 * route. Neutral on purpose: `lib/aws/` renders them as API Gateway gateway
 * responses and `lib/local/` serves the very same bodies, so a client sees one
 * error shape whichever target it talks to.
 */

export type GatewayResponseType =
  | 'THROTTLED'
  | 'INTEGRATION_FAILURE'
  | 'AUTHORIZER_FAILURE'
  | 'UNAUTHORIZED'
  | 'ACCESS_DENIED'
  | 'REQUEST_TOO_LARGE'
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'DEFAULT_4XX'
  | 'DEFAULT_5XX';

export interface GatewayProblem {
  /** HTTP status of the response, repeated as `status` in the body. */
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  /** Extra response headers, literal values. */
  readonly headers?: Readonly<Record<string, string>>;
}

export const problemContentType = 'application/problem+json';

export const gatewayResponses: Readonly<Record<GatewayResponseType, GatewayProblem>> = {
  THROTTLED: {
    status: 429,
    title: 'Too Many Requests',
    detail: 'The API is taking more requests than it can serve right now; retry after the number of seconds in Retry-After.',
    headers: { 'Retry-After': '1' },
  },
  // A live-room burst past the account's Lambda concurrency is throttled by Lambda
  // before the handler runs; API Gateway reports that as INTEGRATION_FAILURE (504 by
  // default, 500 on older APIs). It is overload, not a fault: answer it as one, so
  // clients wait out Retry-After instead of counting an outage. Locally there is no
  // concurrency limit, so only the AWS target ever sends it.
  INTEGRATION_FAILURE: {
    status: 429,
    title: 'Too Many Requests',
    detail: 'The service is at capacity right now; retry after the number of seconds in Retry-After with the same Idempotency-Key.',
    headers: { 'Retry-After': '1' },
  },
  // The authorizer has a reserved concurrency (lib/topology.ts): a burst of new tokens past it
  // throttles the authorizer, which API Gateway reports as AUTHORIZER_FAILURE (500 by default).
  // Overload again, answered as such; an authorizer that errors instead pages through its
  // function's error alarm, and one throttled, through its throttle alarm.
  AUTHORIZER_FAILURE: {
    status: 429,
    title: 'Too Many Requests',
    detail: 'The service is at capacity right now; retry after the number of seconds in Retry-After with the same Idempotency-Key.',
    headers: { 'Retry-After': '1' },
  },
  UNAUTHORIZED: {
    status: 401,
    title: 'Unauthorized',
    detail: 'A valid bearer token is required in the Authorization header.',
  },
  ACCESS_DENIED: {
    status: 403,
    title: 'Forbidden',
    detail: 'This token does not allow this request.',
  },
  REQUEST_TOO_LARGE: {
    status: 413,
    title: 'Content Too Large',
    detail: 'The request body is larger than this API accepts.',
  },
  // API Gateway answers a method or path it does not know with this type (403 by
  // default, a confusing "Missing Authentication Token"); the contract says 404.
  MISSING_AUTHENTICATION_TOKEN: {
    status: 404,
    title: 'Not Found',
    detail: 'No route matches this method and path.',
  },
  // The status is fixed so that the HTTP status and the body's `status` always
  // agree: a gateway response template cannot read the status it is answering with.
  DEFAULT_4XX: {
    status: 400,
    title: 'Bad Request',
    detail: 'The request could not be accepted.',
  },
  DEFAULT_5XX: {
    status: 500,
    title: 'Internal Server Error',
    detail: 'The request could not be completed; retry later.',
  },
};

/** The JSON body of a gateway problem, exactly as both targets send it. */
export const gatewayProblemBody = (type: GatewayResponseType): string => {
  const { status, title, detail } = gatewayResponses[type];
  return JSON.stringify({ type: 'about:blank', title, status, detail });
};
