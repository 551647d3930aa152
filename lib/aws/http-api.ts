import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import {
  gatewayProblemBody,
  gatewayResponses,
  problemContentType,
  type GatewayResponseType,
} from '../gateway-responses.ts';
import { identity, type FunctionName, type RouteSpec } from '../topology.ts';

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
 * enforces the body-size limit before anything runs.
 */
export class C2mApi extends Construct {
  public readonly restApi: apigateway.RestApi;
  public readonly authorizer: apigateway.TokenAuthorizer;
  public readonly accessLogGroup: logs.LogGroup;
  public readonly webAcl: wafv2.CfnWebACL;
  /** Every method, by `METHOD path` as the topology writes it. */
  public readonly methods = new Map<string, apigateway.Method>();

  constructor(scope: Construct, id: string, props: C2mApiProps) {
    super(scope, id);

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.restApi = new apigateway.RestApi(this, 'RestApi', {
      restApiName: 'c2m',
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

    this.webAcl = this.bodyLimitWebAcl(props.maxBodyBytes);
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.restApi.deploymentStage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }

  /**
   * A web ACL with one rule: a body over maxBodyBytes is answered 413 with the
   * REQUEST_TOO_LARGE problem before API Gateway runs the authorizer or a
   * handler. API Gateway alone cannot do it (its own limit is 10 MB).
   */
  private bodyLimitWebAcl(maxBodyBytes: number): wafv2.CfnWebACL {
    const bodyKey = 'request-too-large';
    const tooLarge = gatewayResponses.REQUEST_TOO_LARGE;
    return new wafv2.CfnWebACL(this, 'WebAcl', {
      name: 'c2m-api',
      description: `c2m API: bodies over ${maxBodyBytes} bytes are refused with 413`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      // Inspect exactly as far as the limit; past it WAF treats the body as oversize.
      associationConfig: { requestBody: { API_GATEWAY: { defaultSizeInspectionLimit: bodyInspectionLimit(maxBodyBytes) } } },
      customResponseBodies: {
        // WAF allows text, HTML or JSON only, so this one says application/json.
        [bodyKey]: { contentType: 'APPLICATION_JSON', content: gatewayProblemBody('REQUEST_TOO_LARGE') },
      },
      rules: [
        {
          name: 'body-size-limit',
          priority: 0,
          statement: {
            sizeConstraintStatement: {
              fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
              comparisonOperator: 'GT',
              size: maxBodyBytes,
              textTransformations: [{ priority: 0, type: 'NONE' }],
            },
          },
          action: { block: { customResponse: { responseCode: tooLarge.status, customResponseBodyKey: bodyKey } } },
          visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'c2m-api-body-size-limit', sampledRequestsEnabled: false },
        },
      ],
      visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'c2m-api', sampledRequestsEnabled: false },
    });
  }
}
