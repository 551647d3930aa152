import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CfnElement, Stack } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/aws/app.ts';
import { esmRequireBanner } from '../../lib/aws/house-function.ts';
import { functions, type FunctionName } from '../../lib/topology.ts';

/**
 * Issue 15's budget: every Lambda bundle at most 300 KB minified (its source map
 * apart). Over it means a dependency dragged in whole: zod imported as `{ z }`
 * (its 64 locales), @hono/zod-openapi's values (the OpenAPI generator), the X-Ray
 * SDK, or every route's contracts in one function (decision 32).
 */
const sizeBudgetBytes = 300 * 1024;

// The assembly goes inside the project so that loading a bundle resolves
// `@aws-sdk/*` from node_modules, as the Lambda runtime provides it.
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
let outdir: string;
const bundleOf = new Map<FunctionName, string>();

beforeAll(() => {
  // Prepare: one real build, esbuild included.
  mkdirSync(join(projectRoot, 'cdk.out'), { recursive: true });
  outdir = mkdtempSync(join(projectRoot, 'cdk.out', 'bundles-test-'));
  const { app, compute } = buildApp({ bundling: true, outdir });
  const template = app.synth().getStackByName(compute.stackName).template as {
    Resources: Record<string, { Properties: { Code?: { S3Key?: string } } }>;
  };
  for (const spec of functions) {
    const fn = compute.functions.get(spec.name);
    const cfn = fn?.node.defaultChild;
    if (!fn || !(cfn instanceof CfnElement)) throw new Error(`no function ${spec.name}`);
    // The asset is staged as asset.<hash>/ next to the template; the S3 key is <hash>.zip.
    const s3Key = template.Resources[Stack.of(cfn).getLogicalId(cfn)]?.Properties.Code?.S3Key;
    if (!s3Key) throw new Error(`${spec.name} has no asset`);
    bundleOf.set(spec.name, join(outdir, `asset.${s3Key.replace(/\.zip$/, '')}`, 'index.mjs'));
  }
}, 120_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const bundle = (name: FunctionName): string => {
  const path = bundleOf.get(name);
  if (!path) throw new Error(`no bundle for ${name}`);
  return path;
};

describe.each(functions.map((f) => [f.name] as const))('the %s bundle', (name) => {
  it('is one ES module with an external source map', () => {
    expect(existsSync(bundle(name))).toBe(true);
    expect(existsSync(`${bundle(name)}.map`)).toBe(true);
    expect(readFileSync(bundle(name), 'utf8')).toMatch(/export\s*\{[^}]*\bas handler\b[^}]*\}|export\s*\{\s*handler\s*\}/);
  });

  it('defines require for the CommonJS code inside it', () => {
    expect(readFileSync(bundle(name), 'utf8').startsWith(esmRequireBanner)).toBe(true);
  });

  it(`is at most ${sizeBudgetBytes / 1024} KB`, () => {
    const kb = statSync(bundle(name)).size / 1024;
    expect(kb, `${name} is ${kb.toFixed(1)} KB: see what it bundles with esbuild's metafile (decision 32 lists what usually drags weight in)`).toBeLessThanOrEqual(
      sizeBudgetBytes / 1024,
    );
  });

  it('bundles neither the OpenAPI generator, nor zod whole with its locales, nor the X-Ray SDK', () => {
    const code = readFileSync(bundle(name), 'utf8');
    // Strings only these carry: zod-to-openapi's generator, zod's Japanese locale, the X-Ray SDK's context.
    for (const marker of ['Conflicting location for parameter', '文字列', 'AWSXRay', 'cls-hooked']) expect(code, marker).not.toContain(marker);
  });

  it('leaves the AWS SDK to the Lambda runtime', () => {
    const code = readFileSync(bundle(name), 'utf8');
    expect(code).toMatch(/from\s*"@aws-sdk\//);
    // A bundled client would carry its service's protocol target names.
    for (const serviceTarget of ['DynamoDB_20120810', 'AmazonSQS', 'AWSEvents', 'AWSCognitoIdentityProviderService', 'secretsmanager.']) {
      expect(code).not.toContain(serviceTarget);
    }
  });

  it('loads as an ES module and exports an async handler', async () => {
    const loaded = (await import(pathToFileURL(bundle(name)).href)) as { handler?: unknown };
    expect(typeof loaded.handler).toBe('function');
  });
});

describe('the service API asset', () => {
  it('carries the OpenAPI document the routes generate, next to the bundle, and serves it from there', async () => {
    const file = join(bundle('service-api'), '..', 'openapi.json');
    expect(readFileSync(file, 'utf8')).toBe(readFileSync(join(projectRoot, 'clients', 'typescript', 'openapi.json'), 'utf8'));
    // As on Lambda: the task root is the asset, and the handler answers GET /v1/openapi.json from the file there.
    const before = process.env.LAMBDA_TASK_ROOT;
    process.env.LAMBDA_TASK_ROOT = join(file, '..');
    process.env.OIDC_DISCOVERY_URL = 'https://issuer.test/.well-known/openid-configuration';
    try {
      const { handler } = (await import(pathToFileURL(bundle('service-api')).href)) as { handler: (e: unknown, c: unknown) => Promise<{ statusCode: number; body: string }> };
      const res = await handler(
        { httpMethod: 'GET', path: '/v1/openapi.json', resource: '/v1/openapi.json', headers: {}, multiValueHeaders: {}, queryStringParameters: null, requestContext: { requestId: 'r1', path: '/v1/openapi.json' }, body: null, isBase64Encoded: false },
        { functionName: 'service-api', awsRequestId: 'r1' },
      );
      expect(res.statusCode).toBe(200);
      const doc = JSON.parse(res.body) as { openapi: string; components: { securitySchemes: { oidc: { openIdConnectUrl: string } } } };
      expect(doc.openapi).toBe('3.1.0');
      expect(doc.components.securitySchemes.oidc.openIdConnectUrl).toBe('https://issuer.test/.well-known/openid-configuration');
    } finally {
      if (before === undefined) delete process.env.LAMBDA_TASK_ROOT;
      else process.env.LAMBDA_TASK_ROOT = before;
    }
  });
});
