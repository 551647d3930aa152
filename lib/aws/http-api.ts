import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct, type IConstruct } from 'constructs';
import { z } from 'zod';
import {
  gatewayProblemBody,
  gatewayResponses,
  problemContentType,
  type GatewayResponseType,
} from '../gateway-responses.ts';
import { identity, type FunctionName, type RouteSpec } from '../topology.ts';
import { StageNames } from './stage.ts';

/** The stage every route is served from; the `/v1` version lives in the paths themselves. */
export const stageName = 'prod';

/** One JSON line per request: who, what, how it ended, how long it took. */
export const accessLogFields = {
  requestId: apigateway.AccessLogField.contextRequestId(),
  principalId: apigateway.AccessLogField.contextAuthorizerPrincipalId(),
  ip: apigateway.AccessLogField.contextIdentitySourceIp(),
  method: apigateway.AccessLogField.contextHttpMethod(),
  resourcePath: apigateway.AccessLogField.contextResourcePath(),
  status: apigateway.AccessLogField.contextStatus(),
  latency: apigateway.AccessLogField.contextResponseLatency(),
  integrationLatency: apigateway.AccessLogField.contextIntegrationLatency(),
  responseLength: apigateway.AccessLogField.contextResponseLength(),
  errorType: apigateway.AccessLogField.contextErrorResponseType(),
  wafStatus: apigateway.AccessLogField.contextWafResponseCode(),
  xrayTraceId: apigateway.AccessLogField.contextXrayTraceId(),
} as const;

/**
 * The WAF request-body inspection tier that covers `bytes`. API Gateway sends
 * WAF at most 64 KB of a body; anything past the tier is "oversize".
 */
export const bodyInspectionLimit = (bytes: number): 'KB_16' | 'KB_32' | 'KB_48' | 'KB_64' => {
  const tiers = [16, 32, 48, 64] as const;
  const tier = tiers.find((kb) => bytes <= kb * 1024);
  if (tier === undefined) throw new Error(`maxBodyBytes ${bytes} is over the 64 KB WAF can inspect for API Gateway`);
  return `KB_${tier}`;
};

/**
 * Per-client limits, enforced by the web ACL before API Gateway's stage throttle
 * (`throttling` in the topology, shared by every caller) is reached: one partner
 * looping on a bug, or one address flooding, is answered 429 on its own while
 * everyone else's requests go through.
 */
export interface RateLimits {
  /**
   * Requests one bearer token (the Authorization header, as sent) may make per
   * window. A token is one buyer, one live room, one factory client or the
   * platform: c2m's notion of a client. Requests without the header are not
   * counted here (they are refused 401 by the authorizer anyway, and counted per address).
   */
  readonly perClient: number;
  /** Requests one source address may make per window, with or without a token: the floor under a token-minting or anonymous flood. */
  readonly perIp: number;
  /** The window WAF counts over, in seconds (WAF offers 60, 120, 300 and 600). */
  readonly windowSeconds: 60 | 120 | 300 | 600;
}

/** CDK context key overriding any of the rate limits, as JSON: `-c 'c2m:rateLimits={"perIp":60000}'`. */
export const rateLimitContextKey = 'c2m:rateLimits';

/**
 * 3,000 a minute (50 a second) per token is far above what a buyer, a live room
 * posting signals in bulk or a factory's integration sends, and 1/60 of the
 * stage's 3,000 a second: it takes sixty clients at their limit to fill the
 * stage. 18,000 a minute (300 a second) per address leaves room for many clients
 * behind one carrier NAT or one partner's egress, and still takes ten addresses
 * at full tilt to fill the stage. A platform that sends every buyer's calls from
 * a handful of addresses needs `perIp` raised (rate limits are per stage).
 */
export const defaultRateLimits: RateLimits = { perClient: 3_000, perIp: 18_000, windowSeconds: 60 };

const RateLimitsOverride = z.strictObject({
  // WAF's bounds for a rate-based rule's limit.
  perClient: z.number().int().min(10).max(2_000_000_000).optional(),
  perIp: z.number().int().min(10).max(2_000_000_000).optional(),
  windowSeconds: z.union([z.literal(60), z.literal(120), z.literal(300), z.literal(600)]).optional(),
});

/** The rate limits the context gives (`c2m:rateLimits`, JSON), over the defaults. */
export const rateLimitsFromContext = (scope: IConstruct): RateLimits => {
  let value: unknown = scope.node.tryGetContext(rateLimitContextKey);
  if (value === undefined || value === null || value === '') return defaultRateLimits;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new Error(`Context ${rateLimitContextKey} must be JSON`);
    }
  }
  const parsed = RateLimitsOverride.safeParse(value);
  if (!parsed.success) {
    throw new Error(`Context ${rateLimitContextKey} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ')}`);
  }
  const o = parsed.data;
  return {
    perClient: o.perClient ?? defaultRateLimits.perClient,
    perIp: o.perIp ?? defaultRateLimits.perIp,
    windowSeconds: o.windowSeconds ?? defaultRateLimits.windowSeconds,
  };
};

/** The problem body of a request over its client's or its address's rate limit (RFC 9457, as the gateway's own). */
export const rateLimitedProblemBody = JSON.stringify({
  type: 'about:blank',
  title: 'Too Many Requests',
  status: 429,
  detail: 'This client or address sent more requests than its share; retry after the number of seconds in Retry-After.',
});

/**
 * The AWS managed rule groups in the web ACL, by the rule name they have in it:
 * addresses AWS has seen attacking (bots, scanners; its DDoS list only counts, by AWS's default), request
 * patterns of known exploits (Log4j, Java deserialization, localhost Host
 * headers…) and the core rule set (OWASP-style injection, traversal, SSRF to
 * the metadata service). Baseline groups: no fee of their own beyond a WAF rule.
 */
export const managedRuleGroups = {
  'ip-reputation': 'AWSManagedRulesAmazonIpReputationList',
  'known-bad-inputs': 'AWSManagedRulesKnownBadInputsRuleSet',
  'common-rule-set': 'AWSManagedRulesCommonRuleSet',
} as const;

/**
 * Rules of the core rule set that only count, never block, and why:
 * - SizeRestrictions_BODY blocks bodies over 8 KB with WAF's bare 403; c2m accepts
 *   up to `maxBodyBytes` (64 KB: signals in bulk, manifests) and the body-size rule
 *   answers anything larger with the 413 problem the contract promises.
 * - NoUserAgent_HEADER blocks requests without a User-Agent. The API is called by
 *   machines (factories' integrations, the live platform) and the contract never
 *   asks for the header; every request is authenticated by its token instead.
 */
export const commonRuleSetCountOnly = ['SizeRestrictions_BODY', 'NoUserAgent_HEADER'] as const;

export interface C2mApiProps {
  /** The routes to serve; every one is a Lambda proxy integration. */
  readonly routes: readonly RouteSpec[];
  /** The function behind each route's `fn`. */
  readonly functions: ReadonlyMap<FunctionName, lambda.IFunction>;
  /** The TOKEN authorizer function, put in front of every route with `auth: true`. */
  readonly authorizer: lambda.IFunction;
  /** Stage-wide method throttling. */
  readonly throttling: { readonly rateLimit: number; readonly burstLimit: number };
  /** Largest request body accepted; larger is refused with 413 by WAF before API Gateway invokes anything. */
  readonly maxBodyBytes: number;
  /**
   * Per-token and per-address limits, answered 429 by the web ACL.
   * @default defaultRateLimits
   */
  readonly rateLimits?: RateLimits;
  /**
   * The stage whose names the API, its web ACL and their metrics take.
   * @default StageNames.default
   */
  readonly names?: StageNames;
  /**
   * How long API Gateway caches an authorizer decision per token. Part of the
   * revocation promise: a revoked factory's live token is refused within this
   * plus the authorizer's own client-record cache (topology `identity`).
   * @default Duration.seconds(identity.authorizerCacheSeconds)
   */
  readonly authorizerCacheTtl?: Duration;
  /**
   * Retention of the access log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly accessLogRetention?: logs.RetentionDays;
}

/**
 * The c2m REST API: exactly the topology routes, a Lambda TOKEN authorizer on
 * the authenticated ones, RFC 9457 problem bodies for every answer API Gateway
 * gives on its own, access logs, X-Ray, stage throttling, and a web ACL that
 * turns away known-bad addresses and exploits, holds each client and address to
 * its rate, and enforces the body-size limit, all before anything runs.
 */
export class C2mApi extends Construct {
  public readonly restApi: apigateway.RestApi;
  public readonly authorizer: apigateway.TokenAuthorizer;
  public readonly accessLogGroup: logs.LogGroup;
  public readonly webAcl: wafv2.CfnWebACL;
  /** Every method, by `METHOD path` as the topology writes it. */
  public readonly methods = new Map<string, apigateway.Method>();

  /** The rate limits the web ACL enforces. */
  public readonly rateLimits: RateLimits;

  constructor(scope: Construct, id: string, props: C2mApiProps) {
    super(scope, id);
    const names = props.names ?? StageNames.default;
    this.rateLimits = props.rateLimits ?? defaultRateLimits;

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.restApi = new apigateway.RestApi(this, 'RestApi', {
      // API Gateway's metrics (and so the API alarms) are keyed by this name: one per stage.
      restApiName: names.physical('c2m'),
      description: 'c2m HTTP API, version 1 (paths start with /v1)',
      // Live rooms and factories call from the region's own networks; a regional
      // endpoint avoids the CloudFront hop and takes a regional web ACL directly.
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // API Gateway writes access logs through the account-level CloudWatch role.
      cloudWatchRole: true,
      deployOptions: {
        stageName,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.custom(JSON.stringify(accessLogFields)),
        tracingEnabled: true,
        metricsEnabled: true,
        // Execution logs would copy request and response bodies (buyers' names,
        // phones, addresses) into CloudWatch and bill for every line during a
        // burst; access logs, X-Ray and the functions' own logs tell the story.
        loggingLevel: apigateway.MethodLoggingLevel.OFF,
        dataTraceEnabled: false,
        throttlingRateLimit: props.throttling.rateLimit,
        throttlingBurstLimit: props.throttling.burstLimit,
      },
    });
    Validations.of(this.restApi).acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Every handler validates path, query and body with the zod schemas the OpenAPI document is generated from, and answers 400 naming each bad field; an API Gateway model would be a second, drifting copy of those schemas.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'This is the account-level role API Gateway itself uses to write access logs; the AWS-managed policy is the documented one and only grants CloudWatch Logs actions.',
      },
    );
    Validations.of(this.restApi.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG6',
      reason:
        'Execution logging is off on purpose: it would copy request bodies with buyers\' personal data into CloudWatch and cost per line during bursts. Access logs (JSON, per request), X-Ray traces and function logs cover diagnosis.',
    });

    this.authorizer = new apigateway.TokenAuthorizer(this, 'TokenAuthorizer', {
      authorizerName: 'c2m-token',
      handler: props.authorizer,
      identitySource: apigateway.IdentitySource.header('Authorization'),
      resultsCacheTtl: props.authorizerCacheTtl ?? Duration.seconds(identity.authorizerCacheSeconds),
    });

    for (const route of props.routes) {
      const fn = props.functions.get(route.fn);
      if (!fn) throw new Error(`route ${route.method} ${route.path} names function ${route.fn}, which is not built`);
      const resource = this.restApi.root.resourceForPath(route.path);
      const integration = new apigateway.LambdaIntegration(fn, { proxy: true, allowTestInvoke: false });
      const method = resource.addMethod(
        route.method,
        integration,
        route.auth
          ? { authorizer: this.authorizer, authorizationType: apigateway.AuthorizationType.CUSTOM }
          : { authorizationType: apigateway.AuthorizationType.NONE },
      );
      if (!route.auth) {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${route.method} ${route.path} is public by contract (docs/api.md: "no token"): load balancers and integrators read it before they hold a token, and the OpenAPI document is where they learn which issuer to get one from.`,
        });
      }
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          "Tokens come from OpenID Connect issuers (the Cognito user pool, or the operator's own IdP) and the Lambda TOKEN authorizer verifies them against the issuer's JWKS. A Cognito authorizer cannot replace it: it trusts only user pools, so not the live platform's IdP (buyers, live rooms) nor an operator's IdP; it cannot map claims and groups to c2m roles; and it cannot refuse a revoked factory client's still-valid token, which the authorizer checks against the client record.",
      });
      this.methods.set(`${route.method} ${route.path}`, method);
    }

    for (const [type, problem] of Object.entries(gatewayResponses) as [GatewayResponseType, (typeof gatewayResponses)[GatewayResponseType]][]) {
      this.restApi.addGatewayResponse(`Problem${type}`, {
        type: apigateway.ResponseType.of(type),
        statusCode: String(problem.status),
        responseHeaders: Object.fromEntries(
          Object.entries({ 'Content-Type': problemContentType, ...problem.headers }).map(([name, value]) => [
            name,
            `'${value}'`,
          ]),
        ),
        // API Gateway picks the template by the request's Accept; application/json
        // is the one it falls back to. The Content-Type header above says what it is.
        templates: { 'application/json': gatewayProblemBody(type) },
      });
    }

    this.webAcl = this.webAclOf(props.maxBodyBytes, this.rateLimits, names);
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.restApi.deploymentStage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }

  /**
   * The web ACL, in the order WAF evaluates it (the first Block ends it):
   * 0. addresses on AWS's IP reputation list are refused (403) before they count against anyone;
   * 1. an address over `perIp` a window, and
   * 2. a token over `perClient` a window, get 429 with Retry-After until their rate falls;
   * 3. a body over maxBodyBytes gets the REQUEST_TOO_LARGE problem (413): API Gateway alone
   *    cannot refuse it (its own limit is 10 MB);
   * 4. known exploit patterns, and
   * 5. the core rule set, are refused (403).
   * All before API Gateway runs the authorizer or a handler. Rate rules come first so
   * that every request of a flood counts, whatever a later rule would have made of it.
   * About 930 of the 1,500 capacity units a web ACL gets for its base price.
   */
  private webAclOf(maxBodyBytes: number, limits: RateLimits, names: StageNames): wafv2.CfnWebACL {
    const bodyKey = 'request-too-large';
    const rateKey = 'too-many-requests';
    const tooLarge = gatewayResponses.REQUEST_TOO_LARGE;
    const visibility = (rule: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName: names.physical(`c2m-api-${rule}`),
      sampledRequestsEnabled: false,
    });
    const rateLimited: wafv2.CfnWebACL.RuleActionProperty = {
      block: {
        customResponse: {
          responseCode: 429,
          customResponseBodyKey: rateKey,
          // WAF blocks until the count over the trailing window is back under the limit.
          responseHeaders: [{ name: 'Retry-After', value: String(limits.windowSeconds) }],
        },
      },
    };
    const managed = (rule: keyof typeof managedRuleGroups, priority: number, countOnly: readonly string[] = []): wafv2.CfnWebACL.RuleProperty => ({
      name: rule,
      priority,
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name: managedRuleGroups[rule],
          ...(countOnly.length > 0 && { ruleActionOverrides: countOnly.map((name) => ({ name, actionToUse: { count: {} } })) }),
        },
      },
      overrideAction: { none: {} },
      visibilityConfig: visibility(rule),
    });
    return new wafv2.CfnWebACL(this, 'WebAcl', {
      name: names.physical('c2m-api'),
      // WAF allows letters, digits, spaces and =:#@/-,. only.
      description:
        `c2m API: known-bad addresses and exploits refused, over ${limits.perIp} requests an address or ${limits.perClient} a token per ` +
        `${limits.windowSeconds} s answered 429, bodies over ${maxBodyBytes} bytes refused with 413`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      // Inspect exactly as far as the limit; past it WAF treats the body as oversize.
      associationConfig: { requestBody: { API_GATEWAY: { defaultSizeInspectionLimit: bodyInspectionLimit(maxBodyBytes) } } },
      customResponseBodies: {
        // WAF allows text, HTML or JSON only, so these say application/json.
        [bodyKey]: { contentType: 'APPLICATION_JSON', content: gatewayProblemBody('REQUEST_TOO_LARGE') },
        [rateKey]: { contentType: 'APPLICATION_JSON', content: rateLimitedProblemBody },
      },
      rules: [
        managed('ip-reputation', 0),
        {
          name: 'rate-per-ip',
          priority: 1,
          statement: { rateBasedStatement: { aggregateKeyType: 'IP', limit: limits.perIp, evaluationWindowSec: limits.windowSeconds } },
          action: rateLimited,
          visibilityConfig: visibility('rate-per-ip'),
        },
        {
          // Keyed on the token as sent: API Gateway's stage throttle is one bucket for every caller, and
          // usage plans would need an API key per client. A client that mints tokens to dodge this meets
          // the per-address rule, and the token is revocable (a factory's client, the platform's issuer).
          name: 'rate-per-client',
          priority: 2,
          statement: {
            rateBasedStatement: {
              aggregateKeyType: 'CUSTOM_KEYS',
              customKeys: [{ header: { name: 'authorization', textTransformations: [{ priority: 0, type: 'NONE' }] } }],
              limit: limits.perClient,
              evaluationWindowSec: limits.windowSeconds,
            },
          },
          action: rateLimited,
          visibilityConfig: visibility('rate-per-client'),
        },
        {
          name: 'body-size-limit',
          priority: 3,
          statement: {
            sizeConstraintStatement: {
              fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
              comparisonOperator: 'GT',
              size: maxBodyBytes,
              textTransformations: [{ priority: 0, type: 'NONE' }],
            },
          },
          action: { block: { customResponse: { responseCode: tooLarge.status, customResponseBodyKey: bodyKey } } },
          visibilityConfig: visibility('body-size-limit'),
        },
        managed('known-bad-inputs', 4),
        managed('common-rule-set', 5, commonRuleSetCountOnly),
      ],
      visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: names.physical('c2m-api'), sampledRequestsEnabled: false },
    });
  }
}
