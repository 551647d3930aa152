import * as z from '../zod.ts';

/** What every area's routes are built with. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
export const body = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});
/** Every route but health and the document: an access token from the issuer (see the `oidc` security scheme). */
export const bearer = [{ oidc: [] as string[] }];

