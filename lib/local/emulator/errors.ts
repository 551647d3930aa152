import { z } from 'zod';

/**
 * An error the emulated service answers with. Each protocol renders it the way
 * the real service does (SQS: `__type` + `x-amzn-query-error`; EventBridge:
 * `__type`; Scheduler: `x-amzn-errortype`), because that is what the SDK's
 * deserializers key on to build `QueueDoesNotExist`, `ConflictException` and so on.
 */
export class AwsApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** SQS only: the legacy query-protocol code the SDK maps back to the modelled error. */
    readonly queryCode?: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** Parses a request body with zod, turning a mismatch into the service's validation error. */
export const parseRequest = <T>(schema: z.ZodType<T>, input: unknown, invalid: (message: string) => AwsApiError): T => {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw invalid(z.prettifyError(parsed.error).replace(/\n/g, '; '));
  return parsed.data;
};
