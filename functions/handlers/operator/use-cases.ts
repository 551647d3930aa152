import { getFactory, listFactories, recordRegistration, recordRevocation } from '#adapters/factory-store.ts';
import { createFactoryClient, createsClients, deleteFactoryClient } from '#adapters/identity-admin.ts';
import { FactoryAlreadyRegisteredError, FactoryNotFoundError, InvalidInputError } from '#domain/errors.ts';
import type { Factory } from '#domain/factories.ts';
import type { RegisterFactoryBody } from '#contracts/operator.ts';
import type { Principal } from '#shared/principal.ts';
import { log } from '#shared/observability.ts';
import { identity } from '#topology';

/**
 * Registers a factory: a new OAuth2 client in the user pool (or, with the
 * operator's own IdP, the client id they created there), and the registry
 * records that bind the client to the factory. The secret is returned once and
 * kept nowhere by c2m.
 */
export const registerFactory = async (operator: Principal, body: RegisterFactoryBody, now = new Date()) => {
  const ours = createsClients();
  if (ours && body.clientId !== undefined) {
    throw new InvalidInputError('c2m creates the client for this factory', [{ path: 'clientId', message: 'must be absent: the user pool creates the client' }]);
  }
  if (!ours && body.clientId === undefined) {
    throw new InvalidInputError('Name the client created for this factory in your identity provider', [
      { path: 'clientId', message: 'required when the operator brings their own IdP' },
    ]);
  }
  const existing = await getFactory(body.factoryId, true);
  if (existing?.status === 'ACTIVE') throw new FactoryAlreadyRegisteredError(body.factoryId);

  const client = ours ? await createFactoryClient(body.factoryId) : { clientId: body.clientId as string, clientSecret: undefined };
  const factory: Factory = {
    factoryId: body.factoryId,
    name: body.name,
    status: 'ACTIVE',
    clientId: client.clientId,
    registeredAt: now.toISOString(),
    registeredBy: operator.id,
  };
  let outcome: Awaited<ReturnType<typeof recordRegistration>>;
  try {
    outcome = await recordRegistration(factory);
  } catch (err) {
    // Not recorded: the new client is bound to nothing and goes (its tokens would be refused anyway).
    if (ours) await deleteFactoryClient(client.clientId).catch(() => undefined);
    throw err;
  }
  if (outcome !== 'recorded') {
    // A concurrent registration won, or the operator's IdP client is bound already: this client goes.
    if (ours) await deleteFactoryClient(client.clientId);
    if (outcome === 'client-taken') {
      throw new InvalidInputError('That client is bound to a factory already', [{ path: 'clientId', message: 'already bound to a factory; create a new client in your IdP' }]);
    }
    throw new FactoryAlreadyRegisteredError(body.factoryId);
  }
  log().info('factory registered', { factoryId: factory.factoryId, clientId: factory.clientId });
  return {
    factoryId: factory.factoryId,
    clientId: client.clientId,
    ...(client.clientSecret !== undefined && { clientSecret: client.clientSecret }),
    scope: identity.factoryScope,
    status: 'ACTIVE' as const,
  };
};

/**
 * Revokes a factory: both records go REVOKED (the authorizer refuses its live
 * tokens once its cached record expires), then the client is deleted from the
 * pool (no new token from this moment). Revoking again retries the deletion.
 */
export const revokeFactory = async (factoryId: string, now = new Date()) => {
  const factory = await recordRevocation(factoryId, now);
  if (!factory) throw new FactoryNotFoundError(factoryId);
  if (factory.status === 'REVOKED' && createsClients()) await deleteFactoryClient(factory.clientId);
  log().info('factory revoked', { factoryId, clientId: factory.clientId });
  return factory;
};

export const factoryPage = async (limit: number, cursor: string | undefined) => {
  const page = await listFactories(limit, cursor);
  if (page === 'invalid-cursor') throw new InvalidInputError('The cursor is not one this API gave out', [{ path: 'cursor', message: 'invalid cursor' }]);
  return page;
};

/** What the operator list shows: no registry internals. */
export const factoryView = (f: Factory) => ({
  factoryId: f.factoryId,
  name: f.name,
  status: f.status,
  clientId: f.clientId,
  registeredAt: f.registeredAt,
  ...(f.revokedAt !== undefined && { revokedAt: f.revokedAt }),
});
