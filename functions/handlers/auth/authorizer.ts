import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { tokenSecretSource } from '#shared/config.ts';
import { log, tracer } from '#shared/observability.ts';
import { verifyToken } from '#shared/tokens.ts';

const secrets = tracer.captureAWSv3Client(new SecretsManagerClient({}));
let secret: Promise<string> | undefined;

/** The signing secret, fetched once per container (Secrets Manager on AWS, the environment locally). */
const signingSecret = (): Promise<string> =>
  (secret ??= (async () => {
    const source = tokenSecretSource();
    if ('secret' in source) return source.secret;
    const out = await secrets.send(new GetSecretValueCommand({ SecretId: source.arn }));
    if (!out.SecretString) throw new Error('token secret is empty');
    return out.SecretString;
  })().catch((err: unknown) => {
    secret = undefined;
    throw err;
  }));

/**
 * API Gateway TOKEN authorizer. A valid token is allowed on the whole API (the
 * result is cached per token across routes); the handlers check the role per
 * route. Anything else is `Unauthorized`, which API Gateway answers with 401.
 */
export const handler = async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
  const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(event.authorizationToken ?? '');
  const principal = match ? verifyToken(await signingSecret(), match[1] as string) : undefined;
  if (!principal) {
    log().info('token refused');
    throw new Error('Unauthorized');
  }
  // arn:aws:execute-api:region:account:apiId/stage/METHOD/path → every route of this stage
  const [arnPrefix, apiId, stage] = event.methodArn.split('/') as [string, string?, string?];
  const resource = `${arnPrefix}/${apiId ?? '*'}/${stage ?? '*'}/*`;
  return {
    principalId: `${principal.role}:${principal.id}`,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: resource }] },
    // `principalId` is reserved by API Gateway at the top level; the id travels as `sub`.
    context: { role: principal.role, sub: principal.id },
  };
};
