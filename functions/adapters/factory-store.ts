import { GetCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { tableName } from '#shared/config.ts';
import type { Factory, FactoryClient } from '#domain/factories.ts';
import { ddb, pageOfOwnerIndex, transactWrite, type TransactItem } from './dynamo.ts';

/**
 * The factory registry: who may be named by a campaign, and which OAuth2 client
 * acts as which factory. This module owns both item types and every write of them.
 *
 * Keys:
 *   factory  PK=FACTORY#<factoryId>      SK=PROFILE  factoryId, name, status, clientId, registeredAt, registeredBy, revokedAt?
 *            GSI1PK=FACTORIES  GSI1SK=<registeredAt>#<factoryId>   (the operator's list, newest first)
 *   client   PK=FACTORYCLIENT#<clientId> SK=CLIENT   clientId, factoryId, status   (what the authorizer reads, by token client_id)
 *
 * A registration writes both in one transaction, conditional on the factory not
 * being ACTIVE; a revocation flips both to REVOKED in one transaction. A client
 * record is never reused: re-registering a factory creates a new client.
 */
const factoryKey = (factoryId: string) => ({ PK: `FACTORY#${factoryId}`, SK: 'PROFILE' });
const clientKey = (clientId: string) => ({ PK: `FACTORYCLIENT#${clientId}`, SK: 'CLIENT' });
const registry = 'FACTORIES';

const FactoryItem = z.object({
  factoryId: z.string(),
  name: z.string(),
  status: z.enum(['ACTIVE', 'REVOKED']),
  clientId: z.string(),
  registeredAt: z.string(),
  registeredBy: z.string(),
  revokedAt: z.string().optional(),
});
const ClientItem = z.object({ clientId: z.string(), factoryId: z.string(), status: z.enum(['ACTIVE', 'REVOKED']) });

const factoryFromItem = (item: Record<string, unknown>): Factory => FactoryItem.parse(item);

const factoryToItem = (f: Factory) => ({
  ...factoryKey(f.factoryId),
  type: 'factory',
  ...f,
  GSI1PK: registry,
  GSI1SK: `${f.registeredAt}#${f.factoryId}`,
});

export const getFactory = async (factoryId: string, consistent = false): Promise<Factory | undefined> => {
  const out = await ddb.send(new GetCommand({ TableName: tableName(), Key: factoryKey(factoryId), ConsistentRead: consistent }));
  return out.Item ? factoryFromItem(out.Item) : undefined;
};

/** The record behind a token's `client_id` (strongly consistent: a revocation is seen at once by whoever reads). */
export const getFactoryClient = async (clientId: string): Promise<FactoryClient | undefined> => {
  const out = await ddb.send(new GetCommand({ TableName: tableName(), Key: clientKey(clientId), ConsistentRead: true }));
  return out.Item ? ClientItem.parse(out.Item) : undefined;
};

/**
 * The transaction part that holds only while the factory is registered and
 * active: a campaign naming it is written with this, so a revocation racing the
 * create cannot let it through.
 */
export const activeFactoryCheck = (factoryId: string): TransactItem => ({
  ConditionCheck: {
    TableName: tableName(),
    Key: factoryKey(factoryId),
    ConditionExpression: '#status = :active',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':active': 'ACTIVE' },
  },
});

/**
 * Records a factory and its new client. 'active' when the factory is already
 * registered and not revoked, 'client-taken' when the client id was bound
 * before (an operator's own IdP reusing a client): nothing is written then.
 */
export const recordRegistration = async (f: Factory): Promise<'recorded' | 'active' | 'client-taken'> => {
  const outcome = await transactWrite([
    {
      Put: {
        TableName: tableName(),
        Item: factoryToItem(f),
        ConditionExpression: 'attribute_not_exists(PK) OR #status = :revoked',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':revoked': 'REVOKED' },
      },
    },
    {
      Put: {
        TableName: tableName(),
        Item: { ...clientKey(f.clientId), type: 'factory-client', clientId: f.clientId, factoryId: f.factoryId, status: 'ACTIVE' },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
  ]);
  if (outcome === 'done') return 'recorded';
  return outcome.codes[0] === 'ConditionalCheckFailed' ? 'active' : 'client-taken';
};

/** Marks the factory and its current client REVOKED. Returns the factory as it now is; undefined when it was never registered. */
export const recordRevocation = async (factoryId: string, now: Date): Promise<Factory | undefined> => {
  const current = await getFactory(factoryId, true);
  if (!current) return undefined;
  if (current.status === 'REVOKED') return current;
  const revokedAt = now.toISOString();
  const outcome = await transactWrite([
    {
      Update: {
        TableName: tableName(),
        Key: factoryKey(factoryId),
        UpdateExpression: 'SET #status = :revoked, revokedAt = :at',
        ConditionExpression: '#status = :active AND clientId = :client',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':revoked': 'REVOKED', ':active': 'ACTIVE', ':at': revokedAt, ':client': current.clientId },
      },
    },
    {
      Update: {
        TableName: tableName(),
        Key: clientKey(current.clientId),
        UpdateExpression: 'SET #status = :revoked',
        // Never a half item: the client record exists whenever its factory names it.
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':revoked': 'REVOKED' },
      },
    },
  ]);
  // Someone else revoked (or re-registered) in between: report what is there now.
  if (outcome !== 'done') return getFactory(factoryId, true);
  return { ...current, status: 'REVOKED', revokedAt };
};

/** A page of registered factories, newest first. */
export const listFactories = (limit: number, cursor: string | undefined) =>
  pageOfOwnerIndex({ tableName: tableName(), owner: registry, baseKey: factoryKey, limit, cursor, fromItem: factoryFromItem, idPattern: '[A-Za-z0-9_.:-]{1,64}' });

