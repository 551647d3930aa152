import * as z from './zod.ts';

/** RFC 9457 problem details, the body of every error. */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z
      .array(
        z.object({
          path: z.string(),
          message: z.string().openapi({ description: 'In English' }),
          code: z.string().optional().openapi({ description: "A stable name of what is wrong (zod's issue codes such as too_small, or c2m's such as close_only_later), for clients that show their own words" }),
          params: z.record(z.string(), z.union([z.string(), z.number()])).optional().openapi({ description: 'The values the message names (minimum, maximum, …)' }),
        }),
      )
      .optional(),
  })
  .openapi('Problem');

export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: problemTitles[status] ?? 'Error', content: { 'application/problem+json': { schema: Problem } } },
    ]),
  );

export const problemTitles: Record<number, string> = {
  400: 'Invalid input',
  401: 'Unauthenticated',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
};

export const Timestamp = z.iso.datetime({ offset: true }).openapi({ example: '2026-12-01T12:00:00Z' });

export const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, 'Idempotency-Key is 1-128 printable ASCII characters')
    .optional()
    .openapi({ description: 'The same key with the same body returns the first response again' }),
});

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(1024).optional(),
});

export const Id = (prefix: string, name: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}_[0-9a-z]{24}$`), `${name} is not a valid id`)
    .openapi({ example: `${prefix}_0000000000000000000000ab` });
