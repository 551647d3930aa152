import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CfnElement, Stack } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/aws/app.ts';
import { esmRequireBanner } from '../../lib/aws/house-function.ts';
import { functions, type FunctionName } from '../../lib/topology.ts';

/** A bundle over this is a dependency dragged in by accident (hono + zod + zod-openapi is ~0.55 MB). */
const sizeBudgetBytes = 1.5 * 1024 * 1024;

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

  it(`is under ${sizeBudgetBytes / 1024 / 1024} MB`, () => {
    expect(statSync(bundle(name)).size).toBeLessThan(sizeBudgetBytes);
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
