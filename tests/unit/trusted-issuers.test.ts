import { describe, expect, it } from 'vitest';
import { trustedIssuers, withEnvironment } from '../../functions/shared/config.ts';
import { envNames } from '../../lib/topology.ts';

// The authorizer's configuration is read once, validated, and fails loudly naming what is wrong.
const read = (value: unknown) => withEnvironment({ [envNames.trustedIssuers]: JSON.stringify(value) }, async () => trustedIssuers());
const issuer = { issuer: 'https://id.example.com', jwksUri: 'https://id.example.com/jwks', names: ['c2m'] };

describe('TRUSTED_ISSUERS', () => {
  it('fills the claim names and an hour as the longest token lifetime', async () => {
    expect(await read([issuer])).toEqual([{ ...issuer, groupsClaim: 'groups', buyerClaim: 'buyer_id', roomClaim: 'room_id', maxTokenLifetimeSeconds: 3600 }]);
  });
  it('refuses one issuer listed twice (the second would never be consulted), saying what to do instead', async () => {
    await expect(read([issuer, { ...issuer, names: ['platform'] }])).rejects.toThrow(/each issuer appears once/);
  });
  it('refuses an entry without a JWKS URL, naming it', async () => {
    await expect(read([{ issuer: issuer.issuer, names: ['c2m'] }])).rejects.toThrow(/jwksUri/);
  });
});
