import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Annotations,
  AssetHashType,
  CfnOutput,
  DockerImage,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
  type StackProps,
} from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { consoleClientOptions, identityContextKeys } from './identity.ts';
import { wildcardResourceFinding } from './nag.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The console app (Vite): its source, built into the bucket at synth. */
export const defaultConsoleDir = join(projectRoot, 'console');

/** Where the console lives on its origin; Vite's `base` is the same. */
export const consolePath = '/console/';
/** Where the issuer sends the browser back with the authorization code. */
export const consoleCallbackPath = `${consolePath}callback`;
/** The API's paths on the console's origin (the REST API's routes all start with /v1). */
export const apiPathPattern = '/v1/*';

/**
 * The viewer-request function of the console. The console is a single-page app
 * with History routes (/console/callback, /console/campaigns/x): a path under
 * /console/ whose last segment has no extension is one of those routes and gets
 * index.html; a file (/console/config.json, /console/assets/x.js) is served as
 * it is, and nothing under /console/assets/ is ever rewritten, so a missing
 * chunk is a 403 and never HTML parsed as JavaScript. `/` and `/console` redirect to
 * `/console/`. Plain ES5 as a string: it is what CloudFront runs (cloudfront-js-2.0),
 * and what tests/infra/console.test.ts evaluates.
 */
export const consoleRouterSource = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === '/' || uri === '/console') {
    return { statusCode: 302, statusDescription: 'Found', headers: { location: { value: '${consolePath}' } } };
  }
  if (uri.indexOf('${consolePath}') === 0 && uri.indexOf('${consolePath}assets/') !== 0) {
    var last = uri.substring(uri.lastIndexOf('/') + 1);
    if (last.indexOf('.') === -1) {
      request.uri = '${consolePath}index.html';
    }
  }
  return request;
}
`;

/**
 * The console's Content-Security-Policy. Scripts, styles, fonts and API calls
 * come from its own origin (the API is proxied at /v1/*); `connectOrigins` adds
 * the issuer's endpoints the browser fetches during sign-in (discovery, token).
 * Navigations to the issuer's sign-in page are not fetches and need no entry.
 * Styles: Preact sets `style` through the CSSOM, which CSP allows, so no
 * 'unsafe-inline'. Exported so the local runtime can send the same header.
 */
export const consoleContentSecurityPolicy = (connectOrigins: readonly string[]): string =>
  [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${["'self'", ...connectOrigins].join(' ')}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');

/**
 * `https://host` of a URL. A deploy-time URL (a token) is split by CloudFormation;
 * it must then be an absolute URL.
 */
const originOf = (url: string): string =>
  Token.isUnresolved(url) ? `https://${Fn.select(2, Fn.split('/', url))}` : new URL(url).origin;

/**
 * Build console/ into `outputDir` with the project's own Vite, no Docker. The
 * config sets its own root (console/), so the command runs from the project root,
 * as `npm run console:build` does, only with another outDir.
 */
const buildConsole = (consoleDir: string, outputDir: string): void => {
  const config = join(consoleDir, 'vite.config.ts');
  if (!existsSync(config)) {
    throw new Error(
      `c2m-console: cannot build the console, ${config} is missing. The stack deploys the Vite app in console/; ` +
        'restore it, or synthesize without bundling this stack (cdk synth c2m-data c2m-compute).',
    );
  }
  const vite = join(projectRoot, 'node_modules', '.bin', 'vite');
  if (!existsSync(vite)) throw new Error(`c2m-console: ${vite} is missing; run npm ci first`);
  // Vite's log goes to stderr: the CLI may be printing a template on stdout.
  const result = spawnSync(vite, ['build', '--config', config, '--outDir', outputDir, '--emptyOutDir'], {
    cwd: projectRoot,
    stdio: ['ignore', 2, 2],
  });
  if (result.error) throw new Error(`c2m-console: could not run ${vite}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`c2m-console: vite build --config ${config} failed (exit ${result.status}); its output is above`);
  if (!existsSync(join(outputDir, 'index.html'))) throw new Error(`c2m-console: vite build --config ${config} wrote no index.html`);
};

/** How anchors sign in to the hosted console. */
export type ConsoleSignIn =
  | {
      readonly kind: 'userPool';
      /** c2m's pool; the stack makes the console's app client on it, pointing at this distribution. */
      readonly userPool: cognito.IUserPool;
      /** The pool's issuer, `https://cognito-idp.<region>.amazonaws.com/<pool id>` (discovery lives under it). */
      readonly issuer: string;
      /** The pool's hosted UI, an origin: `https://<prefix>.auth.<region>.amazoncognito.com` (authorize, token, logout). */
      readonly hostedUiUrl: string;
    }
  | {
      readonly kind: 'external';
      /** The operator's issuer. */
      readonly issuer: string;
      /**
       * The console's public client at that issuer, registered by the operator with this
       * stack's ConsoleCallbackUrl output as its redirect URI.
       * @default - none: the console is hosted but cannot sign in (config.json is not written, a warning says why)
       */
      readonly clientId?: string;
      /**
       * Origins the browser fetches during sign-in besides the issuer's (a token
       * endpoint on another host, as with Google's).
       * @default - the issuer's origin only
       */
      readonly connectOrigins?: readonly string[];
    };

/** The console's `config.json`, read by the app at start. `apiUrl` absent: the API is on the same origin. */
export interface ConsoleConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly scope?: string;
  /** Where sign-out ends the issuer's session when its discovery names no end_session_endpoint (Cognito's hosted UI). */
  readonly logoutUrl?: string;
}

export interface ConsoleHostingProps {
  /** The REST API, proxied at /v1/* so the console calls it on its own origin (no CORS). */
  readonly api: apigateway.RestApiBase;
  /** How anchors sign in. */
  readonly signIn: ConsoleSignIn;
  /**
   * The console's source, a Vite project whose vite.config.ts sets its root and base.
   * @default defaultConsoleDir (console/ of this repository)
   */
  readonly consoleDir?: string;
}

/**
 * The anchors' console on AWS: a private bucket behind CloudFront (origin access
 * control, HTTPS, security headers), the API proxied at /v1/*, the Vite build
 * and its config.json deployed under /console/, and, with c2m's user pool, the
 * console's app client whose callback is this distribution.
 */
export class ConsoleHosting extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly logBucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  public readonly router: cloudfront.Function;
  public readonly responseHeaders: cloudfront.ResponseHeadersPolicy;
  /** `https://<distribution domain>/console/` */
  public readonly consoleUrl: string;
  /** `https://<distribution domain>/console/callback` */
  public readonly callbackUrl: string;
  /** The console's app client on c2m's pool; undefined with an external issuer. */
  public readonly client?: cognito.UserPoolClient;
  /** What config.json holds (tokens resolve at deploy); undefined when there is no client id to write. */
  public readonly config?: ConsoleConfig;
  /** Hashed build files, cached for a year, never pruned (an open page may still load old chunks). */
  public readonly assetsDeployment: s3deploy.BucketDeployment;
  /** index.html, config.json and the build's other root files, revalidated on every load. */
  public readonly pagesDeployment: s3deploy.BucketDeployment;

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    super(scope, id);
    const { signIn } = props;

    this.logBucket = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      encryption: s3.BucketEncryption.S3_MANAGED,
      // CloudFront standard logs are delivered with an ACL grant; S3 server access logs use the bucket policy.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      // Request records outlive a replaced hosting stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.logBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the access-log bucket of the console bucket and the distribution; logging its own access would log the log deliveries, recursively.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 's3/',
      // Only the build lives here, rebuilt from git on every deploy: the hosting stack can be replaced alone.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    const connectOrigins =
      signIn.kind === 'userPool'
        ? [originOf(signIn.issuer), signIn.hostedUiUrl]
        : [originOf(signIn.issuer), ...(signIn.connectOrigins ?? []).map(originOf)];

    this.responseHeaders = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'c2m console: HSTS, CSP, nosniff, no framing, strict referrer',
      securityHeadersBehavior: {
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
        contentSecurityPolicy: { contentSecurityPolicy: consoleContentSecurityPolicy(connectOrigins), override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
      },
      customHeadersBehavior: {
        customHeaders: [{ header: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=()', override: true }],
      },
    });

    this.router = new cloudfront.Function(this, 'Router', {
      comment: 'c2m console: History routes under /console/ get index.html; / and /console redirect to /console/',
      code: cloudfront.FunctionCode.fromInline(consoleRouterSource),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
    });

    const site: cloudfront.BehaviorOptions = {
      origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      responseHeadersPolicy: this.responseHeaders,
      compress: true,
      functionAssociations: [{ function: this.router, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
    };

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'c2m anchor console (/console/) and API (/v1/)',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      defaultBehavior: site,
      additionalBehaviors: {
        [`${consolePath}*`]: site,
        [apiPathPattern]: {
          origin: new origins.RestApiOrigin(props.api),
          // An API answers no redirects: a POST sent over http must fail, not turn into a GET.
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          // Authorization, query strings and bodies reach the API; Host stays the API's own.
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: this.responseHeaders,
        },
      },
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason:
          "No geo restriction: a pre-sale's anchors and buyers are wherever the live room is, which c2m does not know in advance; restricting countries would lock out the anchors the console is for.",
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'No web ACL on the distribution: it serves a static build and proxies /v1/* to the REST API, whose own regional web ACL (lib/aws/http-api.ts) already refuses oversize bodies before any code runs, and whose authorizer and stage throttling guard every route. A CLOUDFRONT-scope ACL (AWS managed common rule set and an IP rate limit) must live in us-east-1, so it belongs with a custom domain in a separate edge stack, not in this region-agnostic one.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The distribution uses the default *.cloudfront.net certificate, for which CloudFront fixes the viewer security policy and TLSv1 cannot be turned off. A custom domain with an ACM certificate (TLSv1.2_2021) replaces it when the operator has one; the console itself is HTTPS-only (redirect-to-https, HSTS).',
      },
    );

    this.consoleUrl = `https://${this.distribution.distributionDomainName}${consolePath}`;
    this.callbackUrl = `https://${this.distribution.distributionDomainName}${consoleCallbackPath}`;

    if (signIn.kind === 'userPool') {
      // Here, not in the data stack: the callback names this distribution, which itself needs the pool.
      const scopes = [cognito.OAuthScope.OPENID];
      this.client = new cognito.UserPoolClient(this, 'Client', {
        ...consoleClientOptions({ callbackUrls: [this.callbackUrl], logoutUrls: [this.consoleUrl] }, scopes),
        userPool: signIn.userPool,
        userPoolClientName: 'c2m-console-hosted',
      });
      // The console asks for exactly what the client allows; Cognito refuses any other scope.
      // Cognito's discovery names no end_session_endpoint: the console signs out at the hosted UI's /logout instead.
      this.config = {
        issuer: signIn.issuer,
        clientId: this.client.userPoolClientId,
        scope: scopes.map((s) => s.scopeName).join(' '),
        logoutUrl: `${signIn.hostedUiUrl}/logout`,
      };
    } else if (signIn.clientId !== undefined) {
      this.config = { issuer: signIn.issuer, clientId: signIn.clientId };
    } else {
      Annotations.of(this).addWarningV2(
        '@c2m/console:noClientId',
        `No console client id for the operator's issuer (context ${identityContextKeys.consoleClientId}): the console is hosted but cannot sign in. ` +
          `Register a public client (authorization code + PKCE) with the ConsoleCallbackUrl output as redirect URI, then deploy with -c ${identityContextKeys.consoleClientId}=<id>.`,
      );
    }

    const consoleDir = props.consoleDir ?? defaultConsoleDir;
    if (!existsSync(consoleDir)) throw new Error(`c2m-console: the console's source ${consoleDir} is missing`);
    const build = s3deploy.Source.asset(consoleDir, {
      // The build's bytes decide when to redeploy: it also depends on files outside console/ (the lockfile, the API client).
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        local: {
          tryBundle(outputDir) {
            buildConsole(consoleDir, outputDir);
            return true;
          },
        },
        // Never reached: tryBundle builds or throws. CDK requires an image; a container
        // would not see the project's node_modules, so it refuses rather than guess.
        image: DockerImage.fromRegistry('node:20'),
        command: ['sh', '-c', 'echo "c2m builds the console with the local node_modules/.bin/vite; run npm ci" >&2; exit 1'],
      },
    });

    this.assetsDeployment = new s3deploy.BucketDeployment(this, 'DeployAssets', {
      sources: [build],
      destinationBucket: this.bucket,
      destinationKeyPrefix: consolePath.slice(1),
      exclude: ['*'],
      include: ['assets/*'],
      // Names carry content hashes: a page opened before a deploy still finds its chunks.
      prune: false,
      cacheControl: [s3deploy.CacheControl.setPublic(), s3deploy.CacheControl.maxAge(Duration.days(365)), s3deploy.CacheControl.immutable()],
    });

    this.pagesDeployment = new s3deploy.BucketDeployment(this, 'DeployPages', {
      sources: [build, ...(this.config ? [s3deploy.Source.jsonData('config.json', this.config)] : [])],
      destinationBucket: this.bucket,
      destinationKeyPrefix: consolePath.slice(1),
      exclude: ['assets/*'],
      // index.html and config.json change in place: browsers revalidate them on every load.
      cacheControl: [s3deploy.CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: [`${consolePath}*`],
    });
    // index.html goes live only once the chunks it names are there.
    this.pagesDeployment.node.addDependency(this.assetsDeployment);

    this.acknowledgeDeploymentHandler();
  }

  /**
   * The BucketDeployment handler: one Lambda per stack that CDK provides, run by
   * CloudFormation during deployments only, never by a viewer. Its role and
   * runtime are CDK's; each finding is acknowledged for what it is.
   */
  private acknowledgeDeploymentHandler(): void {
    const role = this.pagesDeployment.handlerRole;
    const handler = role.node.scope;
    if (!handler) throw new Error('the BucketDeployment handler role has no function around it');
    const stagedBuild = this.assetsDeployment.node.children.find((child): child is s3assets.Asset => child instanceof s3assets.Asset);
    if (!stagedBuild) throw new Error('the console deployment has no staged asset');

    const copies = 'The CDK BucketDeployment handler copies the staged console build into the console bucket during deployment';
    Validations.of(role).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: `${copies}; CDK gives its role the AWS-managed basic execution policy, which only lets it write its own CloudWatch logs.`,
      },
      {
        id: wildcardResourceFinding(role, stagedBuild.bucket.arnForObjects('*')),
        reason: `${copies}: it reads the zip CDK staged in the bootstrap assets bucket, whose object key is only known per deployment.`,
      },
      {
        id: wildcardResourceFinding(role, this.bucket.arnForObjects('*')),
        reason: `${copies}: it syncs the whole console/ prefix, so it writes and (for index.html and config.json) prunes any object of this bucket, which holds nothing else.`,
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `${copies} and then invalidates /console/* on the distribution; CDK grants cloudfront:CreateInvalidation and GetInvalidation on "*", and those two actions only.`,
      },
      ...(['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'] as const).map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: `${copies}; ${action} is CDK's read/write grant on the staging and console buckets named in the same statements, both scoped to those buckets.`,
      })),
    );
    Validations.of(handler).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'The CDK BucketDeployment handler is a Python function whose runtime aws-cdk-lib pins with its AWS CLI layer; it runs only during deployments. It moves to the next Python runtime when aws-cdk-lib does.',
    });
  }
}

export interface ConsoleStackProps extends StackProps, ConsoleHostingProps {}

/**
 * The anchors' console: hosting only, apart from data and compute so it can be
 * replaced alone. It reads the pool from c2m-data and the API from c2m-compute.
 */
export class ConsoleStack extends Stack {
  public readonly hosting: ConsoleHosting;

  constructor(scope: Construct, id: string, props: ConsoleStackProps) {
    super(scope, id, {
      description: "c2m console: the anchors' console on S3 and CloudFront, with the API proxied at /v1/",
      ...props,
    });
    const { api, signIn, consoleDir } = props;
    this.hosting = new ConsoleHosting(this, 'Console', { api, signIn, ...(consoleDir !== undefined && { consoleDir }) });

    new CfnOutput(this, 'ConsoleUrl', { value: this.hosting.consoleUrl, description: "The anchors' console" });
    new CfnOutput(this, 'ConsoleCallbackUrl', {
      value: this.hosting.callbackUrl,
      description: "The console's sign-in redirect URI; with your own IdP, register the console's client with it",
    });
    if (this.hosting.client) {
      new CfnOutput(this, 'ConsoleClientId', {
        value: this.hosting.client.userPoolClientId,
        description: "The hosted console's public app client on the c2m user pool (authorization code with PKCE)",
      });
    }
  }
}
