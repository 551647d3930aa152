import { Stack, Validations, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/aws/app.ts';
import { identityContextKeys } from '../../lib/aws/identity.ts';

interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: unknown;
}

/** Every acknowledgement recorded in the tree, as cdk-nag v3 reads them (construct metadata). */
const acknowledgementsIn = (root: IConstruct): Acknowledgement[] =>
  root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, unknown>).map(([id, reason]) => ({
          path: construct.node.path,
          // aws-cdk-lib records the id with a plugin prefix; cdk-nag strips it the same way.
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );

/** The AWS Solutions findings of one stack, after synthesis (cross-stack references rendered as deployed). */
const findings = (stack: Stack): string[] => {
  const report = new AwsSolutionsChecks().validateScope(stack);
  return report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
};

// Finding ids spell ARNs as rendered: with no environment the partition and region are
// tokens, with one they may be literals. Both must pass.
const environments: ReadonlyArray<readonly [string, Environment]> = [
  ['no environment (synth without credentials)', {}],
  ['a concrete account and region', { account: '123456789012', region: 'ap-east-1' }],
];

// The user pool (the default) and no pool at all (the operator's own IdP, with the platform's) must both pass.
const identities: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
  ['a Cognito user pool', {}],
  [
    "the operator's own IdP and the platform's",
    {
      [identityContextKeys.externalIssuer]: { issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks' },
      [identityContextKeys.platformIssuer]: { issuer: 'https://live.example.com', jwksUri: 'https://live.example.com/jwks', audience: 'c2m' },
    },
  ],
];

const combinations = environments.flatMap(([envLabel, env]) =>
  identities.map(([identityLabel, context]) => [`${envLabel}, ${identityLabel}`, env, context] as const),
);

describe.each(combinations)('cdk-nag AwsSolutions with %s', (_label, env, context) => {
  // Prepare
  const { app, data, compute, consoleHosting } = buildApp({ bundling: false, env, context });
  app.synth();

  it('c2m-data has no unacknowledged finding', () => {
    expect(findings(data)).toEqual([]);
  });

  it('c2m-compute has no unacknowledged finding', () => {
    expect(findings(compute)).toEqual([]);
  });

  it('c2m-console has no unacknowledged finding', () => {
    expect(findings(consoleHosting)).toEqual([]);
  });
});

describe('cdk-nag acknowledgements', () => {
  const { app } = buildApp({ bundling: false });
  app.synth();
  const acknowledgements = acknowledgementsIn(app);

  it('exist (the tree is read where cdk-nag reads it)', () => {
    expect(acknowledgements.length).toBeGreaterThan(0);
  });

  it('each give a reason an operator can act on', () => {
    for (const ack of acknowledgements) {
      expect(typeof ack.reason, `${ack.id} at ${ack.path}`).toBe('string');
      expect(String(ack.reason).trim().length, `${ack.id} at ${ack.path}`).toBeGreaterThanOrEqual(40);
    }
  });

  it('acknowledge IAM wildcards one finding at a time, never the whole rule', () => {
    for (const ack of acknowledgements.filter((a) => /^AwsSolutions-IAM[45]/.test(a.id))) {
      expect(ack.id, ack.path).toMatch(/^AwsSolutions-IAM[45]\[(Resource|Policy|Action)::.+\]$/);
    }
  });

  it('leave the user pool to pass COG1 (password), COG2 (MFA) and COG8 (Plus) on its own', () => {
    expect(acknowledgements.filter((a) => /^AwsSolutions-COG[128]\b/.test(a.id))).toEqual([]);
  });

  it('are attached to the construct they excuse, never to a stack or the app', () => {
    for (const ack of acknowledgements) {
      expect(ack.path.split('/').length, `${ack.id} at ${ack.path}`).toBeGreaterThan(1);
    }
  });

  it('cover only the reviewed rules', () => {
    const rules = new Set(acknowledgements.map((a) => a.id.replace(/\[.*\]$/, '')));
    expect(rules).toEqual(
      new Set([
        'AwsSolutions-SQS3', // DLQs of rule and schedule targets are themselves DLQs
        'AwsSolutions-IAM5', // X-Ray "*", one-time schedules in the campaign group; the console's BucketDeployment handler
        'AwsSolutions-IAM4', // API Gateway's account-level CloudWatch role; the console's BucketDeployment handler
        'AwsSolutions-L1', // the console's BucketDeployment handler: CDK pins its Python runtime
        'AwsSolutions-S1', // the console's access-log bucket does not log itself
        'AwsSolutions-CFR1', // no geo restriction: anchors are wherever the live room is
        'AwsSolutions-CFR2', // no CloudFront WAF here: the API behind /v1/* has its own; an edge ACL needs us-east-1
        'AwsSolutions-CFR4', // the default *.cloudfront.net certificate
        'AwsSolutions-APIG2', // zod validates requests in the handlers
        'AwsSolutions-APIG4', // health and OpenAPI are public by contract
        'AwsSolutions-APIG6', // execution logging off on purpose
        'AwsSolutions-COG4', // Lambda TOKEN authorizer on purpose: a second issuer, claim mapping, client revocation
      ]),
    );
  });
});
