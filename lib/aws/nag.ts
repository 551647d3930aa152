import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
// cdk-nag's own flattener, so a finding id is spelled exactly as cdk-nag spells it.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';

/**
 * The cdk-nag v3 finding id for a wildcard resource in an IAM policy of
 * `scope`'s stack, e.g. `AwsSolutions-IAM5[Resource::arn:aws:…/*]`. The id
 * depends on how the ARN renders (partition literal or `<AWS::Partition>`,
 * known region or not), so it is computed, never typed in.
 */
export const wildcardResourceFinding = (scope: IConstruct, arn: string): string =>
  `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(arn))}]`;
