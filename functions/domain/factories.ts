/**
 * A factory c2m works with: registered by an operator, holding one OAuth2 client
 * at a time. Only an ACTIVE factory may be named by a campaign, and only its
 * current client's tokens act as it.
 */
export type FactoryStatus = 'ACTIVE' | 'REVOKED';

export interface Factory {
  readonly factoryId: string;
  readonly name: string;
  readonly status: FactoryStatus;
  /** The OAuth2 client the factory's tokens are issued to (client credentials). */
  readonly clientId: string;
  readonly registeredAt: string;
  readonly registeredBy: string;
  readonly revokedAt?: string;
}

/** What a token's `client_id` maps to: the factory it acts as, while that client is not revoked. */
export interface FactoryClient {
  readonly clientId: string;
  readonly factoryId: string;
  readonly status: FactoryStatus;
}

export const isActive = (f: Pick<Factory, 'status'> | undefined): boolean => f?.status === 'ACTIVE';

/**
 * The identity provider's client name for a factory. Cognito names allow
 * `[\w\s+=,.@-]`, factory ids also `:`; `=` is in no factory id, so the mapping
 * stays one to one.
 */
export const clientNameOf = (factoryId: string) => `factory-${factoryId.replace(/:/g, '=')}`;
