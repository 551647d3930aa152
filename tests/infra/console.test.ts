import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { logicalId, must } from '../support/cdk.ts';
import { buildApp, type C2mApp } from '../../lib/aws/app.ts';
import { identityContextKeys } from '../../lib/aws/identity.ts';
import { routes } from '../../lib/topology.ts';

type Json = Record<string, unknown>;
interface CfnTemplate {
  readonly Resources: Record<string, { Type: string; Properties: Json; DependsOn?: string[] }>;
  readonly Outputs?: Record<string, { Value: unknown }>;
}

// Managed policy ids as AWS documents them (CloudFront developer guide, "Use managed cache policies"
// and "Use managed origin request policies"), not as CDK spells them: an independent source.
const cachingDisabled = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const cachingOptimized = '658327ea-f89d-4fab-a63d-7e88639e58f6';
const allViewerExceptHostHeader = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';


/** What CloudFormation would give each attribute the templates read, in ap-east-1. */
const region = 'ap-east-1';
const poolId = `${region}_Ab12Cd34E`;
const distributionDomain = 'd1a2b3c4d5e6f7.cloudfront.net';
const hostedClientId = '5hostedconsoleclient0000';
const restApiId = 'a1b2c3d4e5';
const domainPrefix = 'c2m-123456789012';

/**
 * The app built one way, its three templates, and `deployed(value)`: a template value as it
 * will read once deployed, references and cross-stack outputs replaced by the values above.
 */
const deploy = (built: C2mApp) => {
  const templates: Record<string, CfnTemplate> = Object.fromEntries(
    [built.data, built.compute, built.consoleHosting].map((stack) => [stack.stackName, Template.fromStack(stack).toJSON() as CfnTemplate]),
  );
  const attributes = new Map<string, string>([
    ['AWS::Region.Ref', region],
    ['AWS::URLSuffix.Ref', 'amazonaws.com'],
    ['AWS::Partition.Ref', 'aws'],
    ['AWS::AccountId.Ref', '123456789012'],
    [`${logicalId(built.consoleHosting.hosting.distribution)}.DomainName`, distributionDomain],
    [`${logicalId(built.compute.api.restApi)}.Ref`, restApiId],
    [`${logicalId(built.compute.api.restApi.deploymentStage)}.Ref`, 'prod'],
  ]);
  const pool = built.data.identity.cognito;
  if (pool) {
    attributes.set(`${logicalId(pool.userPool)}.Ref`, poolId);
    attributes.set(`${logicalId(pool.userPool)}.ProviderURL`, `cognito-idp.${region}.amazonaws.com/${poolId}`);
    attributes.set(`${logicalId(pool.domain)}.Ref`, domainPrefix);
  }
  const client = built.consoleHosting.hosting.client;
  if (client) attributes.set(`${logicalId(client)}.Ref`, hostedClientId);

  const deployed = (value: unknown, stackName = built.consoleHosting.stackName): unknown => {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
    if (Array.isArray(value)) return value.map((v) => deployed(v, stackName));
    const v = value as Json;
    // One not listed above stays symbolic (`<logicalId>.<attribute>`): it then matches no expected value.
    const attribute = (key: string) => attributes.get(key) ?? key;
    if (typeof v['Ref'] === 'string') return attribute(`${v['Ref']}.Ref`);
    if (Array.isArray(v['Fn::GetAtt'])) return attribute((v['Fn::GetAtt'] as string[]).join('.'));
    if (Array.isArray(v['Fn::Join'])) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => deployed(p, stackName)).join(separator);
    }
    if (Array.isArray(v['Fn::Split'])) {
      const [separator, source] = v['Fn::Split'] as [string, unknown];
      return String(deployed(source, stackName)).split(separator);
    }
    if (Array.isArray(v['Fn::Select'])) {
      const [index, list] = v['Fn::Select'] as [number, unknown];
      return (deployed(list, stackName) as unknown[])[index];
    }
    if (v['Fn::GetStackOutput']) {
      const { StackName, OutputName } = v['Fn::GetStackOutput'] as { StackName: string; OutputName: string };
      const output = must(templates[StackName]?.Outputs?.[OutputName], `output ${OutputName} of ${StackName}`);
      return deployed(output.Value, StackName);
    }
    if (typeof v['Fn::Sub'] === 'string') return (v['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, (_m, name: string) => attribute(`${name}.Ref`));
    if (Object.keys(v).length === 1 && Object.keys(v)[0]?.startsWith('Fn::')) throw new Error(`cannot deploy ${JSON.stringify(value)}`);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deployed(x, stackName)]));
  };

  const hosting = built.consoleHosting.hosting;
  const template = Template.fromStack(built.consoleHosting);
  const resource = (construct: IConstruct) => must(templates[built.consoleHosting.stackName]?.Resources[logicalId(construct)], construct.node.path);
  const distributionConfig = deployed(resource(hosting.distribution).Properties['DistributionConfig']) as {
    DefaultCacheBehavior: Json;
    CacheBehaviors: Json[];
    Origins: Json[];
    Logging?: Json;
    HttpVersion: string;
  };
  const behaviour = (pattern: string): Json => must(distributionConfig.CacheBehaviors.find((b) => b['PathPattern'] === pattern), `behaviour ${pattern}`);
  const originOf = (b: Json): Json => must(distributionConfig.Origins.find((o) => o['Id'] === b['TargetOriginId']), `origin of ${String(b['PathPattern'])}`);
  const securityHeaders = (deployed(resource(hosting.responseHeaders).Properties['ResponseHeadersPolicyConfig']) as { SecurityHeadersConfig: Json })
    .SecurityHeadersConfig as {
    ContentSecurityPolicy: { ContentSecurityPolicy: string };
    StrictTransportSecurity: { AccessControlMaxAgeSec: number; Override: boolean };
    FrameOptions: { FrameOption: string };
    ReferrerPolicy: { ReferrerPolicy: string };
    ContentTypeOptions: { Override: boolean };
  };
  /** CSP directives by name, their sources in order. */
  const csp = new Map(
    securityHeaders.ContentSecurityPolicy.ContentSecurityPolicy.split(';').map((d) => {
      const [name, ...sources] = d.trim().split(/\s+/);
      return [must(name, 'a directive name'), sources] as const;
    }),
  );
  /** config.json as the deployment will write it: the staged file with its markers replaced. */
  const configJson = (): unknown => {
    const props = resource(hosting.pagesDeployment.node.findChild('CustomResource')).Properties as {
      SourceObjectKeys: string[];
      SourceMarkers?: Record<string, unknown>[];
    };
    const found = props.SourceObjectKeys.map((key, i) => ({ dir: join(built.app.outdir, `asset.${key.replace(/\.zip$/, '')}`), markers: props.SourceMarkers?.[i] ?? {} })).filter(
      ({ dir }) => existsSync(join(dir, 'config.json')),
    );
    if (found.length === 0) return undefined;
    expect(found).toHaveLength(1);
    const [{ dir, markers }] = found as [{ dir: string; markers: Record<string, unknown> }];
    const text = Object.entries(markers).reduce((t, [marker, value]) => t.split(marker).join(String(deployed(value))), readFileSync(join(dir, 'config.json'), 'utf8'));
    return JSON.parse(text);
  };
  return { ...built, templates, template, deployed, resource, distributionConfig, behaviour, originOf, securityHeaders, csp, configJson };
};

const issuer = `https://cognito-idp.${region}.amazonaws.com/${poolId}`;
const hostedUi = `https://${domainPrefix}.auth.${region}.amazoncognito.com`;
const consoleUrl = `https://${distributionDomain}/console/`;
const callbackUrl = `https://${distributionDomain}/console/callback`;

describe('c2m-console, with c2m\'s user pool', () => {
  // Prepare: bundling skipped (the console's Vite build is tested at the end).
  const app = deploy(buildApp({ bundling: false }));
  const { hosting } = app.consoleHosting;

  it('is a stack of its own, so hosting can be replaced without touching data or compute', () => {
    expect(app.consoleHosting.stackName).toBe('c2m-console');
    expect(app.consoleHosting.dependencies.map((s) => s.stackName).sort()).toEqual(['c2m-compute', 'c2m-data']);
    app.template.resourceCountIs('AWS::DynamoDB::Table', 0);
    app.template.resourceCountIs('AWS::Cognito::UserPool', 0);
  });

  it('keeps the build in a bucket nobody reaches but CloudFront: public access blocked, SSL and TLS 1.2 enforced, S3 encryption, access logged', () => {
    app.template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(hosting.logBucket) }, LogFilePrefix: 's3/' },
    });
    const policy = app.template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: logicalId(hosting.bucket) } } });
    const statements = Object.values(policy).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Json[] } } }).Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Principal: { AWS: '*' } }));
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }));
    // The only reader is CloudFront, and only for this distribution.
    const readers = statements.filter((s) => s['Effect'] === 'Allow' && JSON.stringify(s['Action']).includes('s3:GetObject'));
    expect(readers).toHaveLength(1);
    expect(readers[0]?.['Principal']).toEqual({ Service: 'cloudfront.amazonaws.com' });
    expect(JSON.stringify(readers[0]?.['Condition'])).toContain(logicalId(hosting.distribution));
    expect(statements.filter((s) => s['Effect'] === 'Allow' && JSON.stringify(s['Principal']).includes('"*"'))).toEqual([]);
  });

  it('logs to a bucket that is itself private and SSL-only, and keeps its logs when the stack is replaced', () => {
    app.template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] },
      }),
    });
    app.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(hosting.logBucket) },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    expect(app.distributionConfig.Logging).toEqual({ Bucket: `${logicalId(hosting.logBucket)}.RegionalDomainName`, Prefix: 'cloudfront/' });
  });

  it('reads the bucket through origin access control (SigV4, always signed), not a public website endpoint', () => {
    app.template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' }),
    });
    const oac = Object.keys(app.template.findResources('AWS::CloudFront::OriginAccessControl'));
    expect(oac).toHaveLength(1);
    for (const b of [app.distributionConfig.DefaultCacheBehavior, app.behaviour('/console/*')]) {
      expect(app.originOf(b)).toEqual({
        Id: expect.any(String),
        DomainName: `${logicalId(hosting.bucket)}.RegionalDomainName`,
        OriginAccessControlId: `${oac[0]}.Id`,
        S3OriginConfig: { OriginAccessIdentity: '' },
      });
    }
  });

  it('serves the console over HTTPS only (http redirects), HTTP/2 and 3, with the security headers on every behaviour', () => {
    expect(app.distributionConfig.HttpVersion).toBe('http2and3');
    for (const b of [app.distributionConfig.DefaultCacheBehavior, app.behaviour('/console/*')]) {
      expect(b).toMatchObject({ ViewerProtocolPolicy: 'redirect-to-https', CachePolicyId: cachingOptimized, AllowedMethods: ['GET', 'HEAD'] });
    }
    for (const b of [app.distributionConfig.DefaultCacheBehavior, app.behaviour('/console/*'), app.behaviour('/v1/*')]) {
      expect(b['ResponseHeadersPolicyId']).toBe(`${logicalId(hosting.responseHeaders)}.Ref`);
    }
  });

  it('sends HSTS for two years, nosniff, frame DENY and a strict referrer policy', () => {
    expect(app.securityHeaders.StrictTransportSecurity.AccessControlMaxAgeSec).toBeGreaterThanOrEqual(365 * 24 * 3600);
    expect(app.securityHeaders.StrictTransportSecurity.Override).toBe(true);
    expect(app.securityHeaders.ContentTypeOptions.Override).toBe(true);
    expect(app.securityHeaders.FrameOptions.FrameOption).toBe('DENY');
    expect(app.securityHeaders.ReferrerPolicy.ReferrerPolicy).toBe('strict-origin-when-cross-origin');
  });

  it("has a CSP that loads everything from the console's origin and fetches only it, the pool's issuer and its hosted UI", () => {
    expect(app.csp.get('default-src')).toEqual(["'self'"]);
    expect(app.csp.get('script-src')).toEqual(["'self'"]);
    expect(app.csp.get('style-src')).toEqual(["'self'"]);
    expect(app.csp.get('img-src')).toEqual(["'self'", 'data:']);
    expect(app.csp.get('object-src')).toEqual(["'none'"]);
    expect(app.csp.get('frame-ancestors')).toEqual(["'none'"]);
    // Discovery is under the issuer; the token endpoint is on the hosted UI.
    expect(app.csp.get('connect-src')).toEqual(["'self'", new URL(issuer).origin, hostedUi]);
  });

  it('proxies /v1/* to the REST API over HTTPS, uncached, forwarding every viewer header but Host (so Authorization reaches the authorizer)', () => {
    const api = app.behaviour('/v1/*');
    expect(api).toMatchObject({
      CachePolicyId: cachingDisabled,
      OriginRequestPolicyId: allViewerExceptHostHeader,
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: expect.arrayContaining(['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE']),
    });
    expect(api['FunctionAssociations']).toBeUndefined();
    expect(app.originOf(api)).toMatchObject({
      DomainName: `${restApiId}.execute-api.${region}.amazonaws.com`,
      OriginPath: '/prod',
      CustomOriginConfig: { OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] },
    });
    // The behaviour covers the whole API: every route the topology serves is under /v1/.
    expect(routes.filter((r) => !r.path.startsWith('/v1/'))).toEqual([]);
  });

  describe('the viewer-request function on / and /console/*', () => {
    const fn = app.resource(hosting.router).Properties as { FunctionCode: string; FunctionConfig: { Runtime: string } };
    // The code exactly as CloudFront gets it, run in a fresh context as cloudfront-js-2.0 would.
    const handler = runInNewContext(`${fn.FunctionCode}\n;handler`, {}) as (event: unknown) => Json;
    const viewerRequest = (uri: string) =>
      handler({
        version: '1.0',
        context: { eventType: 'viewer-request' },
        viewer: { ip: '198.51.100.7' },
        request: { method: 'GET', uri, querystring: { code: { value: 'abc' } }, headers: {}, cookies: {} },
      });

    it('runs on cloudfront-js-2.0, on the default and console behaviours', () => {
      expect(fn.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
      for (const b of [app.distributionConfig.DefaultCacheBehavior, app.behaviour('/console/*')]) {
        expect(b['FunctionAssociations']).toEqual([{ EventType: 'viewer-request', FunctionARN: expect.any(String) }]);
      }
    });

    it.each(['/console/', '/console/callback', '/console/campaigns/01HZX3Q7', '/console/campaigns/01HZX3Q7/batches'])(
      'answers index.html for the History route %s, keeping the query string',
      (uri) => {
        expect(viewerRequest(uri)).toEqual({ method: 'GET', uri: '/console/index.html', querystring: { code: { value: 'abc' } }, headers: {}, cookies: {} });
      },
    );

    it.each(['/console/assets/index-Bx9f3.js', '/console/assets/index-Bx9f3.css', '/console/assets/gone', '/console/config.json', '/console/favicon.svg'])(
      'leaves the file %s as it is',
      (uri) => {
        expect(viewerRequest(uri)).toMatchObject({ uri });
      },
    );

    it.each(['/', '/console'])('redirects %s to /console/', (uri) => {
      expect(viewerRequest(uri)).toEqual({ statusCode: 302, statusDescription: 'Found', headers: { location: { value: '/console/' } } });
    });
  });

  it("makes the console's app client on the data stack's pool: public, code flow with openid only, back to this distribution", () => {
    const client = must(hosting.client, 'the hosted console client');
    const props = app.deployed(app.resource(client).Properties) as Json;
    expect(props).toMatchObject({
      UserPoolId: poolId,
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid'],
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
      SupportedIdentityProviders: ['COGNITO'],
      CallbackURLs: [callbackUrl],
      LogoutURLs: [consoleUrl],
      EnableTokenRevocation: true,
    });
    // The data stack keeps its own console client (the console run elsewhere), without a secret, beside the
    // payment service's client-credentials client (decision 37), whose secret stays in Cognito.
    const data = Template.fromStack(app.data);
    data.resourceCountIs('AWS::Cognito::UserPoolClient', 2);
    data.resourcePropertiesCountIs('AWS::Cognito::UserPoolClient', { GenerateSecret: true, AllowedOAuthFlows: ['client_credentials'] }, 1);
    app.template.resourcePropertiesCountIs('AWS::Cognito::UserPoolClient', { GenerateSecret: true }, 0);
  });

  it('writes config.json at deploy with the pool as issuer, the hosted client and scope openid, the hosted UI logout (Cognito names no end-session endpoint), and no apiUrl (the API is on the same origin)', () => {
    expect(app.configJson()).toEqual({ issuer, clientId: hostedClientId, scope: 'openid', logoutUrl: `${hostedUi}/logout` });
  });

  it('deploys the build under console/: hashed assets cached a year and kept, pages revalidated and pruned, then /console/* invalidated', () => {
    const assets = app.resource(hosting.assetsDeployment.node.findChild('CustomResource'));
    const pages = app.resource(hosting.pagesDeployment.node.findChild('CustomResource'));
    expect(assets.Properties).toMatchObject({
      DestinationBucketKeyPrefix: 'console/',
      Exclude: ['*'],
      Include: ['assets/*'],
      Prune: false,
      SystemMetadata: { 'cache-control': 'public, max-age=31536000, immutable' },
    });
    expect(pages.Properties).toMatchObject({
      DestinationBucketKeyPrefix: 'console/',
      Exclude: ['assets/*'],
      Prune: true,
      SystemMetadata: { 'cache-control': 'no-cache' },
      DistributionId: { Ref: logicalId(hosting.distribution) },
      DistributionPaths: ['/console/*'],
    });
    // Both carry the same build; index.html goes live after the chunks it names.
    expect((pages.Properties['SourceObjectKeys'] as string[])[0]).toBe((assets.Properties['SourceObjectKeys'] as string[])[0]);
    expect(pages.DependsOn ?? []).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${logicalId(hosting.assetsDeployment.node.findChild('CustomResource'))}`))]));
  });

  it('names the console URL, its callback and its client in outputs', () => {
    const outputs = must(app.templates['c2m-console']?.Outputs, 'outputs');
    expect(app.deployed(outputs['ConsoleUrl']?.Value)).toBe(consoleUrl);
    expect(app.deployed(outputs['ConsoleCallbackUrl']?.Value)).toBe(callbackUrl);
    expect(app.deployed(outputs['ConsoleClientId']?.Value)).toBe(hostedClientId);
  });

  it('synthesizes without credentials: no environment, no context lookups', () => {
    expect(app.consoleHosting.environment).toBe('aws://unknown-account/unknown-region');
    expect(app.app.synth().manifest.missing ?? []).toEqual([]);
  });
});

describe(`c2m-console with the operator's own IdP (${identityContextKeys.externalIssuer})`, () => {
  const operatorIdp = { issuer: 'https://login.example-operator.com/c2m', jwksUri: 'https://login.example-operator.com/c2m/jwks' };

  describe(`and ${identityContextKeys.consoleClientId} and ${identityContextKeys.consoleConnectOrigins}`, () => {
    const app = deploy(
      buildApp({
        bundling: false,
        context: {
          [identityContextKeys.externalIssuer]: operatorIdp,
          [identityContextKeys.consoleClientId]: 'operator-console',
          [identityContextKeys.consoleConnectOrigins]: '["https://tokens.example-operator.com/oauth2"]',
        },
      }),
    );

    it('makes no Cognito client: the operator registers it at their IdP', () => {
      app.template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
      expect(Object.keys(app.templates['c2m-console']?.Outputs ?? {})).not.toContain('ConsoleClientId');
    });

    it("writes config.json with the operator's issuer and the client id from the context", () => {
      expect(app.configJson()).toEqual({ issuer: operatorIdp.issuer, clientId: 'operator-console' });
    });

    it("lets the browser fetch the issuer's origin and the extra origins, nothing else", () => {
      expect(app.csp.get('connect-src')).toEqual(["'self'", 'https://login.example-operator.com', 'https://tokens.example-operator.com']);
    });
  });

  describe(`without ${identityContextKeys.consoleClientId}`, () => {
    const built = buildApp({ bundling: false, context: { [identityContextKeys.externalIssuer]: operatorIdp } });
    const app = deploy(built);

    it('hosts the console, writes no config.json, and says at synth what to register and set', () => {
      expect(app.configJson()).toBeUndefined();
      Annotations.fromStack(built.consoleHosting).hasWarning('*', Match.stringLikeRegexp(`${identityContextKeys.consoleClientId}.*ConsoleCallbackUrl`));
      expect(app.deployed(app.templates['c2m-console']?.Outputs?.['ConsoleCallbackUrl']?.Value)).toBe(callbackUrl);
    });
  });

  it(`refuses a ${identityContextKeys.consoleConnectOrigins} that is not https, naming the key`, () => {
    expect(() =>
      buildApp({
        bundling: false,
        context: { [identityContextKeys.externalIssuer]: operatorIdp, [identityContextKeys.consoleConnectOrigins]: ['http://tokens.example-operator.com'] },
      }),
    ).toThrow(new RegExp(`${identityContextKeys.consoleConnectOrigins} is invalid`));
  });
});

describe("c2m-console's build, bundled as `cdk synth` does (Vite, locally, no Docker)", () => {
  // A throwaway Vite project shaped like console/: its config sets root and base.
  const work = mkdtempSync(join(tmpdir(), 'c2m-console-test-'));
  const project = join(work, 'console');
  const outdir = join(work, 'cdk.out');
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const onlyConsole = { 'aws:cdk:bundling-stacks': ['c2m-console'] };

  it('runs vite build into the asset: index.html under /console/ with hashed assets, deployed by both deployments', () => {
    // Prepare
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, 'vite.config.ts'), `export default { root: ${JSON.stringify(project)}, base: '/console/', logLevel: 'warn' };\n`);
    writeFileSync(join(project, 'index.html'), '<!doctype html><html><head><title>c2m</title></head><body><script type="module" src="./main.js"></script></body></html>\n');
    writeFileSync(join(project, 'package.json'), '{ "type": "module", "private": true }\n');
    writeFileSync(join(project, 'main.js'), "document.title = 'c2m console';\n");

    // Act
    const built = buildApp({ context: onlyConsole, outdir, consoleDir: project });
    const template = built.app.synth().getStackByName('c2m-console').template as CfnTemplate;

    // Assess
    const deployments = Object.values(template.Resources).filter((r) => r.Type === 'Custom::CDKBucketDeployment');
    const buildKey = must((deployments[0]?.Properties['SourceObjectKeys'] as string[] | undefined)?.[0], 'the build asset');
    for (const d of deployments) expect((d.Properties['SourceObjectKeys'] as string[])[0]).toBe(buildKey);
    const staged = join(outdir, `asset.${buildKey.replace(/\.zip$/, '')}`);
    const html = readFileSync(join(staged, 'index.html'), 'utf8');
    expect(html).toMatch(/src="\/console\/assets\/[^"]+\.js"/);
    expect(readdirSync(join(staged, 'assets')).some((f) => f.endsWith('.js'))).toBe(true);
    expect(existsSync(join(staged, 'vite.config.ts'))).toBe(false);
  });

  it('fails with a message naming the missing vite.config.ts', () => {
    rmSync(join(project, 'vite.config.ts'), { force: true });
    expect(() => buildApp({ context: onlyConsole, outdir: join(work, 'cdk.out.missing'), consoleDir: project })).toThrow(/vite\.config\.ts is missing/);
  });
});
