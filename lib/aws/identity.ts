import { Annotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct, type IConstruct } from 'constructs';
import { z } from 'zod';
import type { TrustedIssuer } from '../../functions/shared/config.ts';
import { identity } from '../topology.ts';
import { StageNames } from './stage.ts';

/**
 * CDK context keys that choose how c2m gets its identities. Each takes JSON;
 * from the command line: `cdk synth -c 'c2m:identity={"issuer":"https://…","jwksUri":"https://…"}'`.
 */
export const identityContextKeys = {
  /** `{ issuer, jwksUri, audience?, groupsClaim?, anchorGroup? }`: the operator's own IdP instead of a user pool. */
  externalIssuer: 'c2m:identity',
  /** `{ issuer, jwksUri, audience, buyerClaim?, roomClaim? }`: the live platform's IdP. */
  platformIssuer: 'c2m:platformIssuer',
  /** The hosted-UI domain prefix, `[a-z0-9-]+`, unique in the region. */
  authDomainPrefix: 'c2m:authDomainPrefix',
  /**
   * `{ callbackUrls: [...], logoutUrls: [...] }` of the console client in the data stack's pool
   * (the console run elsewhere, localhost by default). The hosted console of c2m-console has its
   * own client there, whose URLs are its distribution's.
   */
  consoleUrls: 'c2m:consoleUrls',
  /**
   * With the operator's own IdP (`c2m:identity`): the client id of the console's public client
   * (authorization code + PKCE) registered there, with c2m-console's ConsoleCallbackUrl output as
   * redirect URI and its ConsoleUrl as post-logout URI. c2m-console writes it into the console's
   * config.json. Unset, the console is hosted but cannot sign in (a warning says so at synth):
   * deploy once, register the client with the URL the outputs name, deploy again with it.
   * Unused with c2m's user pool, where c2m-console makes the client.
   */
  consoleClientId: 'c2m:consoleClientId',
  /**
   * With the operator's own IdP: a JSON array of https origins the console's browser fetches during
   * sign-in besides the issuer's own (its Content-Security-Policy `connect-src`), for an IdP whose
   * token endpoint is on another host than its issuer.
   */
  consoleConnectOrigins: 'c2m:consoleConnectOrigins',
} as const;

/** USER_POOL_ID when the operator brings their own IdP (functions/shared/config.ts reads it as "no pool"). */
export const noUserPool = 'none';

/** With the operator's own IdP, the group that makes a user an anchor unless the context names another. */
export const defaultAnchorGroup = 'anchor';

/** The group claim of Cognito access tokens. */
export const cognitoGroupsClaim = 'cognito:groups';

const httpsUrl = z.url({ protocol: /^https$/ });
/** Cognito accepts plain http only for localhost, which is where the console runs in development. */
const redirectUrl = z.url().refine((url) => url.startsWith('https://') || /^http:\/\/localhost(:\d+)?\//.test(url), {
  message: 'must be https, or http://localhost',
});

/** The operator's own OpenID Connect issuer, trusted for anchors, operators and factories. */
export const ExternalIssuer = z.strictObject({
  issuer: httpsUrl,
  jwksUri: httpsUrl,
  /** Required `aud` of its access tokens. */
  audience: z.string().min(1).optional(),
  /** Where its tokens list a user's groups (the `operator` group makes an operator). */
  groupsClaim: z.string().min(1).optional(),
  /**
   * The group that makes a user an anchor. Other IdPs' machine tokens may look like
   * users' (Okta, Entra, Keycloak), so with your own IdP a user must be in it.
   * @default 'anchor'
   */
  anchorGroup: z.string().min(1).optional(),
});
export type ExternalIssuer = z.infer<typeof ExternalIssuer>;

/** The live platform's issuer, trusted for buyers and live rooms only. */
export const PlatformIssuer = z.strictObject({
  issuer: httpsUrl,
  jwksUri: httpsUrl,
  /** Required: without an audience, any token the platform issues for any other service would open c2m. */
  audience: z.string().min(1),
  buyerClaim: z.string().min(1).optional(),
  roomClaim: z.string().min(1).optional(),
});
export type PlatformIssuer = z.infer<typeof PlatformIssuer>;

export const ConsoleUrls = z.strictObject({
  callbackUrls: z.array(redirectUrl).min(1),
  logoutUrls: z.array(redirectUrl).min(1),
});
export type ConsoleUrls = z.infer<typeof ConsoleUrls>;

/** Where the console runs in development (`npm start`). */
export const defaultConsoleUrls: ConsoleUrls = {
  callbackUrls: ['http://localhost:3000/console/callback'],
  logoutUrls: ['http://localhost:3000/console/'],
};

const DomainPrefix = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'lowercase letters, digits and inner hyphens, at most 63')
  .refine((prefix) => !/aws|amazon|cognito/.test(prefix), 'Cognito refuses prefixes containing aws, amazon or cognito');

/**
 * One context value, parsed. A JSON value given with `-c` on the command line
 * arrives as a string, the same value in cdk.json as an object: both are read.
 */
const fromContext = <T extends z.ZodType>(scope: IConstruct, key: string, schema: T, json: boolean): z.infer<T> | undefined => {
  let value: unknown = scope.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (json && typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new Error(`Context ${key} must be JSON`);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new Error(`Context ${key} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
};

/** What c2m-console needs to know about the operator's own IdP, from the context (see identityContextKeys). */
export const externalConsoleFromContext = (scope: IConstruct): { clientId?: string; connectOrigins?: string[] } => {
  const clientId = fromContext(scope, identityContextKeys.consoleClientId, z.string().min(1), false);
  const connectOrigins = fromContext(scope, identityContextKeys.consoleConnectOrigins, z.array(httpsUrl).min(1), true);
  return { ...(clientId !== undefined && { clientId }), ...(connectOrigins !== undefined && { connectOrigins }) };
};

/** The identity settings the context gives (see identityContextKeys); anything unset takes its default. */
export const identityPropsFromContext = (scope: IConstruct): C2mIdentityProps => ({
  externalIssuer: fromContext(scope, identityContextKeys.externalIssuer, ExternalIssuer, true),
  platformIssuer: fromContext(scope, identityContextKeys.platformIssuer, PlatformIssuer, true),
  domainPrefix: fromContext(scope, identityContextKeys.authDomainPrefix, DomainPrefix, false),
  consoleUrls: fromContext(scope, identityContextKeys.consoleUrls, ConsoleUrls, true),
});

export interface C2mIdentityProps {
  /**
   * The operator's own OpenID Connect issuer. Given, no user pool is made: its
   * users are anchors (operators when in the operator group), its clients
   * holding the factory scope are factories and its client holding the platform
   * scope is the platform; those clients are created there, not by c2m.
   * @default - a Cognito user pool with a hosted UI, the c2m resource server and the operator group
   */
  readonly externalIssuer?: ExternalIssuer;
  /**
   * The live platform's issuer, whose tokens name buyers and live rooms by claim.
   * @default - none: buyers and live rooms cannot call the API (a warning says so at synth)
   */
  readonly platformIssuer?: PlatformIssuer;
  /**
   * Prefix of the Cognito hosted-UI domain (`<prefix>.auth.<region>.amazoncognito.com`).
   * Unused with an external issuer. It is unique per region across all of AWS: a value
   * given for one stage must not be given to another.
   * @default `c2m-<account id>` (`c2m-<stage>-<account id>` for a named stage), unique per account and region
   */
  readonly domainPrefix?: string;
  /**
   * The stage whose names the pool and its default domain prefix take.
   * @default StageNames.default
   */
  readonly names?: StageNames;
  /**
   * Where the console's authorization-code flow may return to, and where sign-out may go.
   * Unused with an external issuer.
   * @default defaultConsoleUrls (the console on localhost:3000)
   */
  readonly consoleUrls?: ConsoleUrls;
}

/** The c2m user pool and what hangs off it, when c2m runs its own issuer. */
export interface C2mUserPool {
  readonly userPool: cognito.UserPool;
  readonly resourceServer: cognito.UserPoolResourceServer;
  readonly operatorGroup: cognito.UserPoolGroup;
  readonly domain: cognito.UserPoolDomain;
  readonly consoleClient: cognito.UserPoolClient;
  /** The live platform's payment service: a confidential client holding the platform scope only. */
  readonly platformClient: cognito.UserPoolClient;
  /** Where factories and the platform trade their client id and secret for an access token (client-credentials grant). */
  readonly tokenEndpoint: string;
}

/**
 * Who may call c2m, as OpenID Connect issuers: c2m's own (a Cognito user pool,
 * or the operator's IdP) and, if set, the live platform's. The authorizer gets
 * the list as JSON (env TRUSTED_ISSUERS); no c2m function holds a signing key.
 */
export class C2mIdentity extends Construct {
  /** The issuer of anchors', operators' and factories' tokens (`iss`). */
  public readonly issuerUrl: string;
  /** The c2m issuer's discovery document. */
  public readonly openIdConfigurationUrl: string;
  /** The trusted issuers, JSON in the shape of functions/shared/config.ts `TrustedIssuer[]`; tokens resolve at deploy. */
  public readonly trustedIssuers: string;
  /** The user pool and its parts; undefined with an external issuer. */
  public readonly cognito?: C2mUserPool;

  constructor(scope: Construct, id: string, props: C2mIdentityProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);

    let c2mIssuer: z.input<typeof TrustedIssuer>;
    if (props.externalIssuer) {
      const { issuer, jwksUri, audience, groupsClaim, anchorGroup } = props.externalIssuer;
      c2mIssuer = {
        issuer,
        jwksUri,
        names: ['c2m'],
        anchorGroup: anchorGroup ?? defaultAnchorGroup,
        ...(audience !== undefined ? { audience } : {}),
        ...(groupsClaim !== undefined ? { groupsClaim } : {}),
      };
    } else {
      this.cognito = this.userPool(props);
      // userPoolProviderUrl is `cognito-idp.<region>.<url suffix>/<pool id>`, the pool's `iss` without the scheme.
      const issuer = `https://${this.cognito.userPool.userPoolProviderUrl}`;
      // No audience: Cognito access tokens carry none (the authorizer then requires token_use "access").
      c2mIssuer = { issuer, jwksUri: `${issuer}/.well-known/jwks.json`, names: ['c2m'], groupsClaim: cognitoGroupsClaim };
    }
    this.issuerUrl = c2mIssuer.issuer;
    this.openIdConfigurationUrl = `${c2mIssuer.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;

    const trusted: z.input<typeof TrustedIssuer>[] = [c2mIssuer];
    if (props.platformIssuer) {
      const { issuer, jwksUri, audience, buyerClaim, roomClaim } = props.platformIssuer;
      trusted.push({
        issuer,
        jwksUri,
        audience,
        names: ['platform'],
        ...(buyerClaim !== undefined ? { buyerClaim } : {}),
        ...(roomClaim !== undefined ? { roomClaim } : {}),
      });
    } else {
      Annotations.of(stack).addWarningV2(
        '@c2m/identity:noPlatformIssuer',
        `No live-platform issuer (context ${identityContextKeys.platformIssuer}): buyers and live rooms cannot call the API until it is set.`,
      );
    }
    this.trustedIssuers = stack.toJsonString(trusted);
  }

  private userPool(props: C2mIdentityProps): C2mUserPool {
    const stack = Stack.of(this);
    const names = props.names ?? StageNames.default;
    const userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: names.physical('c2m'),
      // Operators create anchors (and each other); nobody signs themselves up.
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      keepOriginal: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        passwordHistorySize: 5,
        tempPasswordValidity: Duration.days(3),
      },
      // Operators register factories and revoke them; anchors open campaigns that take buyers'
      // money. A password alone is not enough for either. TOTP only: SMS would need an SNS role
      // and spend limits, and is the weaker factor. The hosted UI walks users through TOTP setup.
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      // Plus: threat protection blocks sign-ins from compromised credentials and risky
      // contexts. The pool holds a few hundred staff at most; factories are M2M clients, billed apart.
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      // Users, their MFA devices and the factories' clients are state: a stack deletion must not take them.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const factoryScopeName = scopeNameOf(identity.factoryScope, identity.resourceServer);
    const factoryScope = new cognito.ResourceServerScope({
      scopeName: factoryScopeName,
      scopeDescription: 'A factory: its batches, shipments, webhooks and forecasts',
    });
    const platformScope = new cognito.ResourceServerScope({
      scopeName: scopeNameOf(identity.platformScope, identity.resourceServer),
      scopeDescription: "The live platform's payment service: balances paid, refunds confirmed",
    });
    const resourceServer = userPool.addResourceServer('ResourceServer', {
      identifier: identity.resourceServer,
      userPoolResourceServerName: 'c2m API',
      scopes: [factoryScope, platformScope],
    });

    const operatorGroup = userPool.addGroup('OperatorGroup', {
      groupName: identity.operatorGroup,
      description: 'c2m operators: register factories and revoke their access. Every other user is an anchor.',
    });

    const domainPrefix = props.domainPrefix ?? `${names.physical('c2m')}-${stack.account}`;
    const domain = userPool.addDomain('Domain', { cognitoDomain: { domainPrefix } });

    const consoleUrls = props.consoleUrls ?? defaultConsoleUrls;
    const consoleClient = userPool.addClient('ConsoleClient', {
      ...consoleClientOptions(consoleUrls, [cognito.OAuthScope.OPENID, cognito.OAuthScope.PROFILE]),
      userPoolClientName: 'c2m-console',
    });

    // One client, made with the stack: there is one live platform, so nobody registers it at run time
    // (factories, many and changing, are registered by operators instead). Its secret stays in Cognito.
    const platformClient = userPool.addClient('PlatformClient', {
      ...platformClientOptions([cognito.OAuthScope.resourceServer(resourceServer, platformScope)]),
      userPoolClientName: 'c2m-platform-payments',
    });

    return {
      userPool,
      resourceServer,
      operatorGroup,
      domain,
      consoleClient,
      platformClient,
      tokenEndpoint: `${domain.baseUrl()}/oauth2/token`,
    };
  }
}

/**
 * An app client for the anchors' console, wherever it runs: a browser app, so
 * public, signing in through the hosted UI with the authorization code and PKCE.
 */
export const consoleClientOptions = (urls: ConsoleUrls, scopes: readonly cognito.OAuthScope[]): cognito.UserPoolClientOptions => ({
  // A browser app keeps no secret; it proves itself with PKCE (code_challenge), which
  // Cognito checks whenever the authorization request carries one.
  generateSecret: false,
  // Sign-in happens in the hosted UI only (code flow): no password, SRP or custom
  // flows against the API from the browser. Refresh tokens still work (CDK adds them).
  authFlows: { user: false, userSrp: false, userPassword: false, adminUserPassword: false, custom: false },
  oAuth: {
    flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
    scopes: [...scopes],
    callbackUrls: [...urls.callbackUrls],
    logoutUrls: [...urls.logoutUrls],
  },
  supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
  accessTokenValidity: Duration.seconds(identity.accessTokenTtlSeconds),
  idTokenValidity: Duration.seconds(identity.accessTokenTtlSeconds),
  // A day of live sessions; the next day starts with a new sign-in (and MFA).
  refreshTokenValidity: Duration.days(1),
  enableTokenRevocation: true,
  preventUserExistenceErrors: true,
});

/**
 * The live platform's payment service: a machine, so a confidential client that
 * only trades its id and secret for an access token holding `scopes`.
 */
export const platformClientOptions = (scopes: readonly cognito.OAuthScope[]): cognito.UserPoolClientOptions => ({
  generateSecret: true,
  // No user ever signs in through this client: every user flow off (CDK keeps refresh, which
  // client credentials never issues a token for).
  authFlows: { user: false, userSrp: false, userPassword: false, adminUserPassword: false, custom: false },
  oAuth: {
    flows: { authorizationCodeGrant: false, implicitCodeGrant: false, clientCredentials: true },
    scopes: [...scopes],
  },
  // Client credentials goes through no identity provider; none listed, none usable.
  supportedIdentityProviders: [],
  accessTokenValidity: Duration.seconds(identity.accessTokenTtlSeconds),
  enableTokenRevocation: true,
  preventUserExistenceErrors: true,
});

/** `c2m/factory` → `factory`, checking that the scope belongs to the resource server. */
const scopeNameOf = (scope: string, resourceServer: string): string => {
  const prefix = `${resourceServer}/`;
  if (!scope.startsWith(prefix) || scope.length === prefix.length) {
    throw new Error(`scope ${scope} is not a scope of resource server ${resourceServer}`);
  }
  return scope.slice(prefix.length);
};
