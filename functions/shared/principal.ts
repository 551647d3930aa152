import * as z from 'zod';

/** Who may call the API. Tokens come from OpenID Connect issuers; the authorizer maps their claims to one of these. */
export const roles = ['anchor', 'buyer', 'factory', 'liveroom', 'operator', 'platform'] as const;
export const Role = z.enum(roles);
export type Role = z.infer<typeof Role>;

export const Principal = z.object({
  role: Role,
  id: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'ids are 1-64 letters, digits or _ . : -'),
});
export type Principal = z.infer<typeof Principal>;
