import * as z from './zod.ts';
import { Timestamp } from './common.ts';

const FactoryId = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'factoryId is 1-64 letters, digits or _ . : -')
  .openapi({ example: 'factory-hangzhou-3' });

export const RegisterFactoryBody = z
  .object({
    factoryId: FactoryId,
    name: z.string().trim().min(1).max(200).openapi({ example: 'Hangzhou Linen Works' }),
    clientId: z
      .string()
      .regex(/^[\x21-\x7e]{1,128}$/, 'clientId is 1-128 printable ASCII characters')
      .optional()
      .openapi({
        description:
          "Only when the operator brings their own IdP: the id of the client created there for this factory. With the user pool, c2m creates the client and this must be absent.",
      }),
  })
  .strict()
  .openapi('RegisterFactoryBody');
export type RegisterFactoryBody = z.infer<typeof RegisterFactoryBody>;

export const FactoryView = z
  .object({
    factoryId: FactoryId,
    name: z.string(),
    status: z.enum(['ACTIVE', 'REVOKED']),
    clientId: z.string(),
    registeredAt: Timestamp,
    revokedAt: Timestamp.optional(),
  })
  .openapi('Factory');

export const FactoryRegistered = z
  .object({
    factoryId: FactoryId,
    clientId: z.string(),
    clientSecret: z.string().optional().openapi({
      description: 'Shown once. Absent when the client lives in the operator\'s own IdP. The factory exchanges it for tokens at the issuer\'s token endpoint (client credentials).',
    }),
    scope: z.string().openapi({ example: 'c2m/factory' }),
    status: z.literal('ACTIVE'),
  })
  .openapi('FactoryRegistered');

export const FactoryList = z.object({ items: z.array(FactoryView), nextCursor: z.string().optional() }).openapi('FactoryList');

export const FactoryParams = z.object({ factoryId: FactoryId });
