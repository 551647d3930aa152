import { AwsApiError } from './errors.ts';

/**
 * The two Cognito user-pool calls c2m makes (functions/adapters/identity-admin.ts),
 * answered by the local issuer: a factory's client is created there with the
 * client-credentials grant and its scopes, and deleted on revocation.
 */
export interface LocalIdentityProvider {
  /** The pool id the functions are given (USER_POOL_ID). */
  readonly userPoolId: string;
  createClient(name: string, scopes: readonly string[]): Promise<{ clientId: string; clientSecret: string }>;
  deleteClient(clientId: string): Promise<boolean>;
}

const str = (input: Record<string, unknown>, name: string): string => {
  const v = input[name];
  if (typeof v !== 'string' || v.length === 0) throw new AwsApiError('InvalidParameterException', `${name} is required`);
  return v;
};

export const createCognitoApi =
  (idp: LocalIdentityProvider | undefined) =>
  async (operation: string, input: Record<string, unknown>): Promise<unknown> => {
    if (!idp) throw new AwsApiError('UnknownOperationException', 'No local identity provider in this emulator.');
    if (str(input, 'UserPoolId') !== idp.userPoolId) throw new AwsApiError('ResourceNotFoundException', 'User pool does not exist.');
    switch (operation) {
      case 'CreateUserPoolClient': {
        const flows = input.AllowedOAuthFlows;
        if (input.GenerateSecret !== true || !Array.isArray(flows) || flows.join() !== 'client_credentials') {
          throw new AwsApiError('InvalidParameterException', 'The local pool creates only confidential client-credentials clients.');
        }
        const scopes = Array.isArray(input.AllowedOAuthScopes) ? input.AllowedOAuthScopes.map(String) : [];
        const name = str(input, 'ClientName');
        // As the real pool validates it: a name it would refuse is refused here too.
        if (!/^[\w\s+=,.@-]{1,128}$/.test(name)) throw new AwsApiError('InvalidParameterException', `1 validation error detected: Value '${name}' at 'clientName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+`);
        const { clientId, clientSecret } = await idp.createClient(name, scopes);
        return {
          UserPoolClient: {
            UserPoolId: idp.userPoolId,
            ClientName: name,
            ClientId: clientId,
            ClientSecret: clientSecret,
            AllowedOAuthFlows: ['client_credentials'],
            AllowedOAuthScopes: scopes,
            AllowedOAuthFlowsUserPoolClient: true,
          },
        };
      }
      case 'DeleteUserPoolClient': {
        const deleted = await idp.deleteClient(str(input, 'ClientId'));
        if (!deleted) throw new AwsApiError('ResourceNotFoundException', 'Client does not exist.');
        return {};
      }
      default:
        throw new AwsApiError('UnknownOperationException', `${operation} is not supported by the local user pool.`);
    }
  };
