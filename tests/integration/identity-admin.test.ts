import { afterAll, describe, expect, it } from 'vitest';
import { startAwsEmulator } from '../../lib/local/aws-emulator.ts';
import { startLocalIssuer } from '../../lib/local/issuer.ts';
import { localCredentials, localRegion } from '../../lib/local/dynamodb.ts';
import { envNames, identity } from '../../lib/topology.ts';

// The factories' client adapter (functions/adapters/identity-admin.ts) with the real
// Cognito SDK client against the emulator, which registers clients with a real local
// issuer: what the operator route does on AWS, and what an operator sees when the pool
// answers with an error (503, never a 500).
const pool = 'local_it_pool';
const issuer = await startLocalIssuer({ baseUrl: 'http://localhost:1', dataDir: null });
const emulator = await startAwsEmulator({
  dataDir: null,
  invoke: async () => undefined,
  startConsumers: false,
  identityProvider: { userPoolId: pool, createClient: issuer.createClient, deleteClient: issuer.deleteClient },
});
Object.assign(process.env, {
  AWS_REGION: localRegion,
  AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
  AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: emulator.endpoint,
  POWERTOOLS_TRACE_ENABLED: 'false',
});
const admin = await import('../../functions/adapters/identity-admin.ts');
const { withEnvironment } = await import('../../functions/shared/config.ts');
const inPool = <T>(id: string, fn: () => Promise<T>) => withEnvironment({ ...process.env, [envNames.userPoolId]: id }, fn);

afterAll(() => emulator.stop());

describe('Factory clients in the pool', () => {
  it('are created with a secret, also for ids Cognito would not take as a name as they are, and deleted (twice is fine)', async () => {
    const client = await inPool(pool, () => admin.createFactoryClient('acme:sz'));
    expect(client.clientId).toMatch(/\S/);
    expect(client.clientSecret.length).toBeGreaterThanOrEqual(32);
    expect(await issuer.deleteClient(client.clientId)).toBe(true); // it was there, under the issuer
    const again = await inPool(pool, () => admin.createFactoryClient('acme:sz'));
    await inPool(pool, () => admin.deleteFactoryClient(again.clientId));
    await inPool(pool, () => admin.deleteFactoryClient(again.clientId));
    expect(await issuer.deleteClient(again.clientId)).toBe(false);
  });

  it('a pool that refuses the creation is 503 to the operator (retry after 5 s), not a 500', async () => {
    await expect(inPool('no_such_pool', () => admin.createFactoryClient('factory-x'))).rejects.toMatchObject({ kind: 'unavailable', retryAfterSeconds: 5 });
  });

  it('with the operator\'s own IdP (no pool) c2m creates nothing', async () => {
    expect(await inPool('none', async () => admin.createsClients())).toBe(false);
    await expect(inPool('none', () => admin.createFactoryClient('factory-y'))).rejects.toThrow(/needs a user pool/);
    expect(identity.factoryScope).toBe('c2m/factory');
  });
});
