import { fileURLToPath } from 'node:url';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { logicalId, must } from '../support/cdk.ts';
import { z } from 'zod';
import { TrustedIssuer } from '../../functions/shared/config.ts';
import { buildApp } from '../../lib/aws/app.ts';
import { clockQueueName } from '../../lib/aws/data-stack.ts';
import { clientManagementActions } from '../../lib/aws/grants.ts';
import { houseRuntime } from '../../lib/aws/house-function.ts';
import { identityContextKeys, noUserPool } from '../../lib/aws/identity.ts';
import { businessMetrics, outboxQuarantineMetric } from '../../lib/aws/observability.ts';
import { outboxMetrics } from '../../functions/adapters/outbox.ts';
import { gatewayProblemBody, gatewayResponses, type GatewayResponseType } from '../../lib/gateway-responses.ts';
import {
  campaignScheduleGroup,
  envNames,
  eventSource,
  functions,
  identity,
  maxBodyBytes,
  queues,
  routes,
  rules,
  schedules,
  table,
  tableStreams,
  throttling,
  type FunctionName,
  type QueueName,
  type TableAction,
} from '../../lib/topology.ts';

// Prepare: one app, bundling skipped (these tests read templates, not code).
const { data, compute } = buildApp({ bundling: false });
const dataTemplate = Template.fromStack(data);
const computeTemplate = Template.fromStack(compute);

interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}
interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

/** Whether a CloudFormation value (a Ref, GetAtt, cross-stack output…) points at the resource. */
const refersTo = (value: unknown, resourceLogicalId: string): boolean => JSON.stringify(value).includes(resourceLogicalId);
const asArray = <T>(value: T | readonly T[]): readonly T[] => (Array.isArray(value) ? (value as readonly T[]) : [value as T]);

const fn = (name: FunctionName) => must(compute.functions.get(name), `function ${name}`);
const queue = (name: QueueName) => must(data.queues.get(name), `queue ${name}`);
const resourcesOf = (template: Template, type: string, props?: unknown): Record<string, CfnResource> =>
  template.findResources(type, props) as Record<string, CfnResource>;

/** Allow statements of a function's execution role. */
const statementsOf = (name: FunctionName): Statement[] => {
  const policies = resourcesOf(computeTemplate, 'AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: logicalId(fn(name).executionRole) }]) },
  });
  return Object.values(policies)
    .flatMap((p) => (p.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement)
    .filter((s) => s.Effect === 'Allow');
};
const actionsOf = (name: FunctionName): Set<string> => new Set(statementsOf(name).flatMap((s) => asArray(s.Action)));
/** Actions a function may take on one resource (or its sub-resources, such as a table's indexes). */
const actionsOn = (name: FunctionName, target: IConstruct): Set<string> =>
  new Set(
    statementsOf(name)
      .filter((s) => asArray(s.Resource).some((r) => refersTo(r, logicalId(target))))
      .flatMap((s) => asArray(s.Action)),
  );
const environmentOf = (name: FunctionName): Record<string, unknown> => {
  const resource = must(resourcesOf(computeTemplate, 'AWS::Lambda::Function')[logicalId(fn(name))], `function ${name} resource`);
  return (resource.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
};

/**
 * A CloudFormation string value as it will read once deployed, with each resource
 * attribute spelled `<logicalId>.<attribute>` (a Ref as `<logicalId>.Ref`) and a
 * cross-stack output followed to the data stack's value. Anything else fails.
 */
const dataOutputs = (dataTemplate.toJSON() as { Outputs: Record<string, { Value: unknown }> }).Outputs;
const rendered = (value: unknown, outputs: Record<string, { Value: unknown }> = dataOutputs): string => {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v['Fn::Join'])) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => rendered(part, outputs)).join(separator);
  }
  if (v['Fn::GetStackOutput']) {
    const name = (v['Fn::GetStackOutput'] as { OutputName: string }).OutputName;
    return rendered(must(outputs[name], `data output ${name}`).Value, outputs);
  }
  if (Array.isArray(v['Fn::GetAtt'])) return (v['Fn::GetAtt'] as string[]).join('.');
  if (typeof v['Ref'] === 'string') return `${v['Ref']}.Ref`;
  throw new Error(`cannot render ${JSON.stringify(value)}`);
};

/** Actions a function may take on the table itself, its indexes left out. */
/** A resource that is the table's stream (its StreamArn), not the table. */
const isStreamArn = (r: unknown) => JSON.stringify(r).includes('StreamArn');
const actionsOnTableItself = (name: FunctionName): Set<string> =>
  new Set(
    statementsOf(name)
      .filter((s) =>
        asArray(s.Resource).some((r) => refersTo(r, logicalId(data.table)) && !JSON.stringify(r).includes('/index/') && !isStreamArn(r)),
      )
      .flatMap((s) => asArray(s.Action)),
  );
/** Actions a function may take on the table's stream. */
const actionsOnStream = (name: FunctionName): Set<string> =>
  new Set(
    statementsOf(name)
      .filter((s) => asArray(s.Resource).some(isStreamArn))
      .flatMap((s) => asArray(s.Action)),
  );
const streamConsumers = new Set<FunctionName>(tableStreams.map((t) => t.consumer));
/** The indexes named in a function's statements, with the actions allowed on them. */
const indexGrantsOf = (name: FunctionName): { indexes: Set<string>; actions: Set<string> } => {
  const onIndexes = statementsOf(name).filter((s) => JSON.stringify(s.Resource).includes('/index/'));
  return {
    indexes: new Set(onIndexes.flatMap((s) => [...JSON.stringify(s.Resource).matchAll(/\/index\/([^"\\]+)/g)].map((m) => m[1] ?? ''))),
    actions: new Set(onIndexes.flatMap((s) => asArray(s.Action))),
  };
};

/**
 * What each function's code sends to the table, derived from the adapter calls
 * reachable from its entry (and checked against the bundles below). A change
 * here is a change of what a function may do in production: make it on purpose.
 */
const derivedTableAccess: Record<FunctionName, { table: readonly TableAction[]; indexes: readonly string[] } | undefined> = {
  // The factory client's record: registered, not revoked.
  authorizer: { table: ['GetItem'], indexes: [] },
  'service-api': { table: ['GetItem'], indexes: [] },
  'campaigns-api': { table: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'], indexes: ['GSI1', 'GSI3'] },
  // With ConditionCheckItem: an address change is conditional on the pre-order's batch being as read (no lot counted since).
  'preorders-api': { table: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'], indexes: ['GSI1', 'GSI3'] },
  'campaign-clock': { table: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'], indexes: ['GSI2'] },
  // Reads the campaign and its gates (and a queued pre-order, for one release); writes the order refs of a stream batch, 25 a
  // BatchWriteItem; flushes what its pre-orders' buyers were not told yet (Query a pre-order with its notices, claim and record them).
  'preorder-intake': { table: ['GetItem', 'Query', 'UpdateItem', 'BatchGetItem', 'BatchWriteItem'], indexes: [] },
  // ConditionCheckItem: a deposit is forfeited at its deadline only while its campaign has not failed.
  'batch-cutter': { table: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'], indexes: ['GSI3'] },
  'signals-api': { table: ['GetItem', 'PutItem', 'DeleteItem'], indexes: [] },
  'signal-aggregator': { table: ['GetItem', 'PutItem', 'UpdateItem'], indexes: [] },
  'factory-api': { table: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'], indexes: ['GSI1', 'GSI3'] },
  // Registers a factory and its client record in one transaction (Put, Update); lists factories on GSI1 only.
  'operator-api': { table: ['GetItem', 'PutItem', 'UpdateItem'], indexes: ['GSI1'] },
  fulfillment: { table: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'], indexes: [] },
  // Reads a released batch's pages of "batched" notices with its members (BatchGetItem), claims and writes them (UpdateItem).
  notifier: { table: ['BatchGetItem', 'GetItem', 'Query', 'UpdateItem'], indexes: [] },
  'webhook-dispatcher': { table: ['GetItem', 'PutItem', 'UpdateItem'], indexes: ['GSI1'] },
  // Reads deliveries and webhooks, records tries and slots; a webhook disabled for failing is told through
  // the factory's feed (Put, Update in one transaction) and its other webhooks (found on GSI1, a Put each).
  'webhook-deliverer': { table: ['GetItem', 'PutItem', 'UpdateItem'], indexes: ['GSI1'] },
};

/** DynamoDB command classes (lib-dynamodb and client-dynamodb) and the IAM action each needs; transactions per item. */
const actionOfCommand: Record<string, TableAction | 'Scan' | 'TransactWrite'> = {
  GetCommand: 'GetItem',
  GetItemCommand: 'GetItem',
  TransactGetCommand: 'GetItem',
  TransactGetItemsCommand: 'GetItem',
  BatchGetCommand: 'BatchGetItem',
  BatchGetItemCommand: 'BatchGetItem',
  QueryCommand: 'Query',
  PutCommand: 'PutItem',
  PutItemCommand: 'PutItem',
  UpdateCommand: 'UpdateItem',
  UpdateItemCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  DeleteItemCommand: 'DeleteItem',
  BatchWriteCommand: 'BatchWriteItem',
  BatchWriteItemCommand: 'BatchWriteItem',
  ScanCommand: 'Scan',
  TransactWriteCommand: 'TransactWrite',
  TransactWriteItemsCommand: 'TransactWrite',
};
const transactItemAction: Record<string, TableAction> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' };

/** The text of the call's argument list that starts at `open` (an opening parenthesis), strings skipped. */
const argumentsAt = (code: string, open: number): string => {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < code.length; i++) {
    const ch = code[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if (ch === '(' || ch === '{' || ch === '[') depth++;
    else if (ch === ')' || ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return code.slice(open + 1, i);
    }
  }
  throw new Error('unbalanced call');
};

/**
 * The table actions and index queries a function's code can make: its entry
 * bundled as Lambda gets it (esbuild, tree-shaken, AWS SDK external), every
 * DynamoDB command constructed in it, every item kind of its transactions, and
 * the IndexName of each Query. Anything it cannot read for sure fails the test.
 */
const tableCallsIn = async (entry: string): Promise<{ table: Set<string>; indexes: Set<string> }> => {
  const out = await build({
    entryPoints: [fileURLToPath(new URL(`../../${entry}`, import.meta.url))],
    absWorkingDir: fileURLToPath(new URL('../../', import.meta.url)),
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    treeShaking: true,
    logLevel: 'silent',
  });
  const code = must(out.outputFiles[0], `bundle of ${entry}`).text;
  const table = new Set<string>();
  const indexes = new Set<string>();
  let transacts = false;
  for (const imported of code.matchAll(/import\s*(\*\s*as\s*\w+|\{[^}]*\})\s*from\s*"@aws-sdk\/(?:lib|client)-dynamodb"/g)) {
    const clause = must(imported[1], 'import clause');
    if (clause.startsWith('*')) throw new Error(`${entry}: a namespace import of a DynamoDB package hides which commands it sends`);
    for (const specifier of clause.slice(1, -1).split(',').map((x) => x.trim()).filter(Boolean)) {
      const [exported, local = exported] = specifier.split(/\s+as\s+/) as [string, string?];
      if (!exported.endsWith('Command')) continue;
      const action = actionOfCommand[exported];
      for (const call of code.matchAll(new RegExp(`\\bnew ${local}\\(`, 'g'))) {
        if (!action) throw new Error(`${entry}: ${exported} is not a known item command; grant it on purpose`);
        if (action === 'TransactWrite') {
          transacts = true;
          continue;
        }
        if (action !== 'Query') {
          table.add(action);
          continue;
        }
        // A Query names its index or queries the table itself.
        const args = argumentsAt(code, must(call.index, 'call index') + call[0].length - 1);
        if (!args.trimStart().startsWith('{')) throw new Error(`${entry}: a Query built elsewhere (${args.slice(0, 40)}…); pass its input inline`);
        const index = /\bIndexName\s*:\s*([^,}\s]+)/.exec(args)?.[1];
        if (index === undefined) table.add('Query');
        else if (/^"[\w.-]+"$/.test(index)) indexes.add(index.slice(1, -1));
        else throw new Error(`${entry}: a Query of an index named at run time (${index}); name it literally`);
      }
    }
  }
  // TransactWriteItems is authorised per item it carries; items are built apart from the call (the outbox's Put).
  if (transacts) {
    for (const item of code.matchAll(/(?<![\w$.])(Put|Update|Delete|ConditionCheck)\s*:/g)) {
      const kind = must(item[1], 'item kind');
      table.add(must(transactItemAction[kind], kind));
    }
  }
  return { table, indexes };
};

describe('c2m-data: the table', () => {
  it('is keyed by PK and SK strings and billed per request', () => {
    dataTemplate.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: table.partitionKey, KeyType: 'HASH' },
        { AttributeName: table.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: table.partitionKey, AttributeType: 'S' },
        { AttributeName: table.sortKey, AttributeType: 'S' },
      ]),
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it.each(table.indexes.map((index) => [index.name, index] as const))('has index %s with its keys, projecting ALL', (_name, index) => {
    dataTemplate.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: Match.arrayWith([
        {
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ]),
    });
  });

  it("has a change stream carrying each item as written, which intake follows (decision 28)", () => {
    dataTemplate.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: { StreamViewType: 'NEW_IMAGE' } });
  });

  it('has point-in-time recovery, server-side encryption and TTL on the topology attribute', () => {
    dataTemplate.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
    });
  });

  it('survives stack deletion and refuses to be deleted', () => {
    dataTemplate.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
  });

  it('is named in a stack output', () => {
    dataTemplate.hasOutput('TableName', { Value: { Ref: logicalId(data.table) } });
  });
});

describe('c2m-data: bus, queues and dead letters', () => {
  it(`has a custom event bus named ${eventSource}`, () => {
    dataTemplate.hasResourceProperties('AWS::Events::EventBus', { Name: eventSource });
  });

  it.each(queues.map((q) => [q.name, q] as const))(
    'queue %s redrives to its own -dlq after the topology receive count, with the topology visibility timeout',
    (name, spec) => {
      const workQueue = must(data.workQueues.get(name), `work queue ${name}`);
      dataTemplate.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: name,
        VisibilityTimeout: spec.visibilityTimeoutSeconds,
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(workQueue.deadLetter.queue), 'Arn'] },
          maxReceiveCount: spec.maxReceiveCount,
        },
      });
      dataTemplate.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `${name}-dlq`,
        MessageRetentionPeriod: 14 * 24 * 60 * 60,
        SqsManagedSseEnabled: true,
      });
    },
  );

  it.each([...data.deadLetterQueues.keys()])('dead-letter queue of %s alarms the operators on its first message', (name) => {
    const dlq = must(data.deadLetterQueues.get(name), `dlq ${name}`);
    dataTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(dlq), 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: logicalId(data.alarmTopic) }],
    });
  });

  it.each([...data.queues.keys(), ...data.deadLetterQueues.keys()].map((name) => [name]))(
    'queue %s refuses requests without TLS',
    (name) => {
      const q = data.queues.get(name as QueueName) ?? must(data.deadLetterQueues.get(name), `queue ${name}`);
      dataTemplate.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(q) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    },
  );

  it('the alarm topic refuses publishing without TLS', () => {
    dataTemplate.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: logicalId(data.alarmTopic) }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });
});

describe('c2m-data: the buyer-notification topic', () => {
  it('is encrypted at rest with the AWS-managed SNS key', () => {
    const topic = must(resourcesOf(dataTemplate, 'AWS::SNS::Topic')[logicalId(data.notificationTopic)], 'notification topic');
    expect(topic.Properties['DisplayName']).toBe('c2m buyer notifications');
    expect(JSON.stringify(topic.Properties['KmsMasterKeyId'])).toMatch(/:alias\/aws\/sns"/);
  });

  it('refuses publishing without TLS', () => {
    dataTemplate.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: logicalId(data.notificationTopic) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('is named in a stack output, for the live platform to subscribe to', () => {
    dataTemplate.hasOutput('NotificationTopicArn', { Value: { Ref: logicalId(data.notificationTopic) } });
  });
});

describe('c2m-data: rules and schedules', () => {
  it.each(rules.map((r) => [r.name, r] as const))('rule %s sends the matching c2m events to its queue, with a DLQ', (name, spec) => {
    dataTemplate.hasResourceProperties('AWS::Events::Rule', {
      Name: name,
      EventBusName: { Ref: logicalId(data.bus) },
      EventPattern: { source: spec.pattern.source, 'detail-type': spec.pattern['detail-type'] },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(queue(spec.targetQueue)), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(must(data.deadLetterQueues.get(name), `dlq ${name}`)), 'Arn'] } },
        }),
      ],
    });
  });

  it.each(schedules.map((s) => [s.name, s] as const))('schedule %s sends its message to its queue at its rate', (name, spec) => {
    dataTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: name,
      ScheduleExpression: `rate(${spec.rateMinutes} minute${spec.rateMinutes === 1 ? "" : "s"})`,
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [logicalId(queue(spec.targetQueue)), 'Arn'] },
        Input: JSON.stringify(spec.message),
      }),
    });
  });

  it.each(schedules.map((s) => [s.name, s] as const))('schedule %s runs with a role that may only send messages', (name) => {
    const schedule = Object.values(resourcesOf(dataTemplate, 'AWS::Scheduler::Schedule', { Properties: { Name: name } }))[0];
    const roleId = must(
      (must(schedule, `schedule ${name}`).Properties['Target'] as { RoleArn: { 'Fn::GetAtt': [string, string] } }).RoleArn['Fn::GetAtt'][0],
      'role id',
    );
    const policies = Object.values(resourcesOf(dataTemplate, 'AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }));
    const actions = policies.flatMap((p) =>
      (p.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement.flatMap((s) => asArray(s.Action)),
    );
    expect(actions.length).toBeGreaterThan(0);
    expect(new Set(actions)).toEqual(new Set(['sqs:SendMessage']));
  });

  it(`the one-time schedule group is ${campaignScheduleGroup}, kept when the stack goes`, () => {
    dataTemplate.hasResource('AWS::Scheduler::ScheduleGroup', {
      Properties: { Name: campaignScheduleGroup },
      DeletionPolicy: 'Retain',
    });
  });

  it(`the campaign scheduler role is assumed by EventBridge Scheduler and may only send to ${clockQueueName}`, () => {
    const roleId = logicalId(data.campaignSchedulerRole);
    dataTemplate.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: Match.objectLike({ 'aws:SourceArn': { 'Fn::GetAtt': [logicalId(data.scheduleGroup), 'Arn'] } }) },
          }),
        ],
      },
    });
    dataTemplate.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: {
        Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [logicalId(data.clockQueue), 'Arn'] } }],
      },
    });
  });
});

describe('c2m-data: identity, with no context (a Cognito user pool)', () => {
  const pool = must(data.identity.cognito, 'the user pool');
  const poolId = logicalId(pool.userPool);
  const issuer = `https://${poolId}.ProviderURL`;

  it('has a user pool nobody can sign up to: operators create anchors', () => {
    dataTemplate.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: Match.objectLike({ AllowAdminCreateUserOnly: true }),
      AliasAttributes: ['email'],
    });
  });

  it('requires a 12-character password of every character class, and TOTP MFA (no SMS)', () => {
    dataTemplate.hasResourceProperties('AWS::Cognito::UserPool', {
      Policies: {
        PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true }),
      },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
    });
  });

  it('is on the Plus plan with threat protection enforced', () => {
    dataTemplate.hasResourceProperties('AWS::Cognito::UserPool', {
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
  });

  it('survives stack deletion and refuses to be deleted', () => {
    dataTemplate.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtection: 'ACTIVE' }),
    });
  });

  it(`has the resource server ${identity.resourceServer} with the scopes factory and platform, so factories ask for ${identity.factoryScope} and the platform for ${identity.platformScope}`, () => {
    dataTemplate.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      UserPoolId: { Ref: poolId },
      Identifier: identity.resourceServer,
      Scopes: [Match.objectLike({ ScopeName: 'factory' }), Match.objectLike({ ScopeName: 'platform' })],
    });
    expect(`${identity.resourceServer}/factory`).toBe(identity.factoryScope);
    expect(`${identity.resourceServer}/platform`).toBe(identity.platformScope);
  });

  it(`has the ${identity.operatorGroup} group`, () => {
    dataTemplate.hasResourceProperties('AWS::Cognito::UserPoolGroup', { UserPoolId: { Ref: poolId }, GroupName: identity.operatorGroup });
  });

  it('has a hosted-UI domain, c2m-<account> by default', () => {
    dataTemplate.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      UserPoolId: { Ref: poolId },
      Domain: { 'Fn::Join': ['', ['c2m-', { Ref: 'AWS::AccountId' }]] },
    });
  });

  it("has two app clients, the console's and the platform's, and no other: factories' clients are made at run time", () => {
    expect(Object.keys(resourcesOf(dataTemplate, 'AWS::Cognito::UserPoolClient')).sort()).toEqual(
      [logicalId(pool.consoleClient), logicalId(pool.platformClient)].sort(),
    );
  });

  it('the console client is public, code flow only, hosted UI only, one-hour revocable tokens', () => {
    dataTemplate.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      UserPoolId: { Ref: poolId },
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'profile'],
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
      SupportedIdentityProviders: ['COGNITO'],
      CallbackURLs: ['http://localhost:3000/console/callback'],
      LogoutURLs: ['http://localhost:3000/console/'],
      AccessTokenValidity: identity.accessTokenTtlSeconds / 60,
      TokenValidityUnits: Match.objectLike({ AccessToken: 'minutes' }),
      EnableTokenRevocation: true,
      PreventUserExistenceErrors: 'ENABLED',
    });
  });

  it(`the platform client is confidential, client credentials only, allowed ${identity.platformScope} and nothing else, no callback, one-hour revocable tokens`, () => {
    const client = must(resourcesOf(dataTemplate, 'AWS::Cognito::UserPoolClient')[logicalId(pool.platformClient)], 'the platform client');
    // Every property, so a callback URL, a user flow, an identity provider or another scope added later fails here.
    expect(client.Properties).toEqual({
      UserPoolId: { Ref: poolId },
      ClientName: 'c2m-platform-payments',
      GenerateSecret: true,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthScopes: [{ 'Fn::Join': ['', [{ Ref: logicalId(pool.resourceServer) }, '/platform']] }],
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
      AccessTokenValidity: identity.accessTokenTtlSeconds / 60,
      TokenValidityUnits: { AccessToken: 'minutes' },
      EnableTokenRevocation: true,
      PreventUserExistenceErrors: 'ENABLED',
    });
    // A resource server's Ref is its identifier: the one scope reads c2m/platform at deploy.
    const server = must(resourcesOf(dataTemplate, 'AWS::Cognito::UserPoolResourceServer')[logicalId(pool.resourceServer)], 'the resource server');
    expect(`${String(server.Properties['Identifier'])}/platform`).toBe(identity.platformScope);
  });

  it("the platform client's secret stays in Cognito: no resource reads it, and its id is an output telling the operator where the secret is", () => {
    // userPoolClientSecret would add a custom resource calling DescribeUserPoolClient, and put the secret in the template's reach.
    expect(JSON.stringify(dataTemplate.toJSON().Resources)).not.toMatch(/ClientSecret|DescribeUserPoolClient/);
    dataTemplate.hasOutput('PlatformClientId', {
      Value: { Ref: logicalId(pool.platformClient) },
      Description: Match.stringLikeRegexp(`${identity.platformScope}.*secret is in Cognito only, never in this template`),
    });
  });

  it('names the pool, issuer, discovery document, token endpoint and console client in outputs', () => {
    dataTemplate.hasOutput('UserPoolId', { Value: { Ref: poolId } });
    expect(rendered(dataOutputs['IssuerUrl']?.Value)).toBe(issuer);
    expect(rendered(dataOutputs['OpenIdConfigurationUrl']?.Value)).toBe(`${issuer}/.well-known/openid-configuration`);
    expect(rendered(dataOutputs['TokenEndpoint']?.Value)).toBe(
      `https://${logicalId(pool.domain)}.Ref.auth.AWS::Region.Ref.amazoncognito.com/oauth2/token`,
    );
    dataTemplate.hasOutput('ConsoleClientId', { Value: { Ref: logicalId(pool.consoleClient) } });
  });

  it('no secret: neither stack holds a Secrets Manager secret, nor outputs one', () => {
    dataTemplate.resourceCountIs('AWS::SecretsManager::Secret', 0);
    computeTemplate.resourceCountIs('AWS::SecretsManager::Secret', 0);
    // The webhook-secrets key's ARN, exported to the compute stack, names a key, not a secret.
    const keyExport = new RegExp(logicalId(data.webhookSecretsKey));
    expect(Object.keys(dataOutputs).filter((name) => /secret/i.test(name) && !keyExport.test(name))).toEqual([]);
  });

  it('warns at synth that buyers and live rooms cannot call until the platform issuer is set', () => {
    Annotations.fromStack(data).hasWarning(`/${data.stackName}`, Match.stringLikeRegexp(identityContextKeys.platformIssuer));
  });
});

describe('c2m-compute: functions', () => {
  it.each(functions.map((f) => [f.name, f] as const))(
    '%s runs on the newest Node.js runtime on ARM with X-Ray, memory and timeout from the topology',
    (name, spec) => {
      computeTemplate.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: houseRuntime.name,
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: spec.memoryMb,
        Timeout: spec.timeoutSeconds,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: logicalId(fn(name).functionLogGroup) } },
        Environment: {
          Variables: Match.objectLike({
            POWERTOOLS_SERVICE_NAME: name,
            POWERTOOLS_METRICS_NAMESPACE: 'c2m',
            NODE_OPTIONS: '--enable-source-maps',
          }),
        },
      });
    },
  );

  it.each(functions.map((f) => [f.name]))('%s logs to its own log group, kept one month', (name) => {
    const logGroup = must(
      resourcesOf(computeTemplate, 'AWS::Logs::LogGroup')[logicalId(fn(name as FunctionName).functionLogGroup)],
      `log group of ${name}`,
    );
    expect(logGroup.Properties['RetentionInDays']).toBe(30);
    const writers = statementsOf(name as FunctionName).filter((s) => refersTo(s.Resource, logicalId(fn(name as FunctionName).functionLogGroup)));
    expect(new Set(writers.flatMap((s) => asArray(s.Action)))).toEqual(new Set(['logs:CreateLogStream', 'logs:PutLogEvents']));
  });

  it('no function role carries a managed policy', () => {
    for (const f of functions) {
      const role = must(resourcesOf(computeTemplate, 'AWS::IAM::Role')[logicalId(fn(f.name).executionRole)], `role of ${f.name}`);
      expect(role.Properties['ManagedPolicyArns'], f.name).toBeUndefined();
    }
  });

  it('the only "*" resources any function may touch are X-Ray trace upload, and for a stream consumer ListStreams (IAM scopes it to no resource)', () => {
    for (const f of functions) {
      const onEverything = statementsOf(f.name).filter((s) => asArray(s.Resource).includes('*'));
      expect(new Set(onEverything.flatMap((s) => asArray(s.Action))), f.name).toEqual(
        new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', ...(streamConsumers.has(f.name) ? ['dynamodb:ListStreams'] : [])]),
      );
    }
  });

  it.each(tableStreams.map((t) => [t.name, t] as const))(
    "%s reads the table's stream from its start, only new pre-orders reach it, and a failing batch is retried, never skipped",
    (_name, spec) => {
      const mappings = Object.values(resourcesOf(computeTemplate, 'AWS::Lambda::EventSourceMapping')).filter(
        (m) => m.Properties['FunctionName'] !== undefined && JSON.stringify(m.Properties['FunctionName']).includes(logicalId(fn(spec.consumer))),
      );
      const streamMappings = mappings.filter((m) => m.Properties['StartingPosition'] !== undefined);
      expect(streamMappings).toHaveLength(1);
      const props = (streamMappings[0] as { Properties: Record<string, unknown> }).Properties;
      expect(props).toMatchObject({
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: spec.batchSize,
        MaximumBatchingWindowInSeconds: spec.maxBatchingWindowSeconds,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      // No retry limit, no maximum record age, no on-failure destination: a record is an accepted pre-order.
      expect(props['MaximumRetryAttempts']).toBeUndefined();
      expect(props['MaximumRecordAgeInSeconds']).toBeUndefined();
      expect(props['DestinationConfig']).toBeUndefined();
      const patterns = (props['FilterCriteria'] as { Filters: { Pattern: string }[] }).Filters.map((f) => JSON.parse(f.Pattern) as unknown);
      expect(patterns).toEqual([{ eventName: ['INSERT'], dynamodb: { NewImage: { type: { S: ['preorder'] } } } }]);
      // …and a stuck batch pages: the consumer's oldest record over a minute old for three minutes.
      computeTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `c2m-${spec.name}-iterator-age`,
        MetricName: 'IteratorAge',
        Threshold: 60_000,
        EvaluationPeriods: 3,
      });
    },
  );

  it("only the table's stream consumers may read its stream, and only its stream: no function reads another's", () => {
    expect(streamConsumers).toEqual(new Set(['preorder-intake']));
    for (const f of functions) {
      const expected = streamConsumers.has(f.name) ? ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'] : [];
      expect(actionsOnStream(f.name), f.name).toEqual(new Set(expected));
    }
  });

  it('each function gets exactly the configuration variables its access names, and its operator settings', () => {
    for (const f of functions) {
      const env = environmentOf(f.name);
      for (const [name, value] of Object.entries(f.settings ?? {})) expect(env[name], `${f.name} ${name}`).toBe(value);
      const expected = new Set<string>([
        ...Object.keys(f.settings ?? {}),
        ...(f.access.table ? [envNames.table] : []),
        ...[...(f.access.sendTo ?? []), ...(f.access.health?.queues ?? [])].map(envNames.queueUrl),
        ...(f.access.publish ? [envNames.bus] : []),
        ...(f.access.schedules ? [envNames.scheduleGroup, envNames.schedulerRole, envNames.clockQueueArn] : []),
        ...(f.access.health?.scheduleGroup ? [envNames.scheduleGroup] : []),
        ...(f.access.identity?.verifyTokens ? [envNames.trustedIssuers] : []),
        ...(f.access.identity?.discovery ? [envNames.oidcDiscoveryUrl] : []),
        ...(f.access.identity?.manageClients ? [envNames.userPoolId] : []),
        ...(f.access.notify ? [envNames.notificationTopic] : []),
        ...(f.access.webhookSecrets ? [envNames.webhookSecretsKey] : []),
      ]);
      const configuration = Object.keys(env).filter((k) => !['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'NODE_OPTIONS'].includes(k));
      expect(new Set(configuration), f.name).toEqual(expected);
      if (f.access.table) expect(refersTo(env[envNames.table], logicalId(data.table)), f.name).toBe(true);
      if (f.access.publish) expect(refersTo(env[envNames.bus], logicalId(data.bus)), f.name).toBe(true);
      if (f.access.notify) expect(refersTo(env[envNames.notificationTopic], logicalId(data.notificationTopic)), f.name).toBe(true);
      if (f.access.webhookSecrets) expect(refersTo(env[envNames.webhookSecretsKey], logicalId(data.webhookSecretsKey)), f.name).toBe(true);
      for (const q of [...(f.access.sendTo ?? []), ...(f.access.health?.queues ?? [])]) {
        expect(refersTo(env[envNames.queueUrl(q)], logicalId(queue(q))), f.name).toBe(true);
      }
      if (f.access.schedules) {
        expect(refersTo(env[envNames.schedulerRole], logicalId(data.campaignSchedulerRole)), f.name).toBe(true);
        expect(refersTo(env[envNames.clockQueueArn], logicalId(queue(clockQueueName))), f.name).toBe(true);
      }
    }
  });
});

describe('c2m-compute: identity configuration, with no context (a Cognito user pool)', () => {
  const poolId = logicalId(must(data.userPool, 'the user pool'));
  const issuer = `https://${poolId}.ProviderURL`;

  it("the authorizer trusts exactly the pool's issuer, for c2m's own principals, by its JWKS, with Cognito's groups claim and no audience", () => {
    const json: unknown = JSON.parse(rendered(environmentOf('authorizer')[envNames.trustedIssuers]));
    expect(json).toEqual([{ issuer, jwksUri: `${issuer}/.well-known/jwks.json`, names: ['c2m'], groupsClaim: 'cognito:groups' }]);
    // …and the authorizer's own configuration reader accepts it.
    expect(z.array(TrustedIssuer).parse(json)[0]?.audience).toBeUndefined();
  });

  it("service-api names the pool's discovery document", () => {
    expect(rendered(environmentOf('service-api')[envNames.oidcDiscoveryUrl])).toBe(`${issuer}/.well-known/openid-configuration`);
  });

  it('operator-api is told the user pool it makes factory clients in', () => {
    computeTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'operator-api', [envNames.userPoolId]: Match.anyValue() }) },
    });
    expect(rendered(environmentOf('operator-api')[envNames.userPoolId])).toBe(`${poolId}.Ref`);
  });
});

describe('c2m-compute: grants are the narrowest that work', () => {
  it.each(functions.map((f) => [f.name, derivedTableAccess[f.name]] as const))(
    '%s may take exactly the table actions and index queries its code makes',
    (name, derived) => {
      expect(actionsOnTableItself(name)).toEqual(new Set((derived?.table ?? []).map((a) => `dynamodb:${a}`)));
      const onIndexes = indexGrantsOf(name);
      expect(onIndexes.indexes).toEqual(new Set(derived?.indexes ?? []));
      if (onIndexes.indexes.size > 0) expect(onIndexes.actions).toEqual(new Set(['dynamodb:Query']));
    },
  );

  it.each(functions.map((f) => [f.name, f] as const))(
    "%s's topology table access covers every DynamoDB call its bundle can make, and names nothing it never makes",
    async (name, spec) => {
      const calls = await tableCallsIn(spec.entry);
      expect(new Set(spec.access.table?.actions ?? []), `${name}: table actions`).toEqual(calls.table);
      expect(new Set(spec.access.table?.queryIndexes ?? []), `${name}: indexes queried`).toEqual(calls.indexes);
      expect(derivedTableAccess[name]?.table ?? [], `${name}: the derivation above`).toEqual(spec.access.table?.actions ?? []);
    },
    30_000,
  );

  it('only preorder-intake may BatchWriteItem, none TransactGetItems, and only preorders-api, campaigns-api and batch-cutter ConditionCheckItem: no other code sends them', () => {
    for (const f of functions) {
      const dynamo = [...actionsOf(f.name)];
      for (const unused of ['dynamodb:TransactGetItems', 'dynamodb:TransactWriteItems']) {
        expect(dynamo, f.name).not.toContain(unused);
      }
      expect(dynamo.includes('dynamodb:BatchWriteItem'), f.name).toBe(f.name === 'preorder-intake');
      expect(dynamo.includes('dynamodb:ConditionCheckItem'), f.name).toBe(f.name === 'preorders-api' || f.name === 'campaigns-api' || f.name === 'batch-cutter');
    }
  });

  it('no function gets Scan, stream reads (but a stream consumer, on the stream), table administration or a DynamoDB wildcard', () => {
    for (const f of functions) {
      const onStream = actionsOnStream(f.name);
      const dynamo = [...actionsOf(f.name)].filter((a) => a.startsWith('dynamodb:') && !onStream.has(a) && a !== 'dynamodb:ListStreams');
      expect(dynamo.filter((a) => a.includes('*')), f.name).toEqual([]);
      for (const forbidden of [
        'dynamodb:Scan',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:DescribeStream',
        'dynamodb:DescribeTable',
        'dynamodb:CreateTable',
        'dynamodb:DeleteTable',
        'dynamodb:UpdateTable',
      ]) {
        expect(dynamo, f.name).not.toContain(forbidden);
      }
    }
  });

  it('a function reaches an index only to Query it, and only the indexes the topology names, never index/*', () => {
    for (const f of functions) {
      const { indexes, actions } = indexGrantsOf(f.name);
      expect(indexes, f.name).toEqual(new Set(f.access.table?.queryIndexes ?? []));
      if (indexes.size > 0) expect(actions, f.name).toEqual(new Set(['dynamodb:Query']));
      expect(indexes.has('*'), f.name).toBe(false);
    }
  });

  it('service-api may read the notifications queue\'s attributes and the campaign schedule group, for health, and nothing else of SQS or Scheduler', () => {
    const statements = statementsOf('service-api');
    const sqsActions = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('sqs:')));
    expect(new Set(sqsActions.flatMap((s) => asArray(s.Action)))).toEqual(new Set(['sqs:GetQueueAttributes']));
    expect(sqsActions.flatMap((s) => asArray(s.Resource))).toHaveLength(1);
    expect(actionsOn('service-api', queue('notifications'))).toEqual(new Set(['sqs:GetQueueAttributes']));
    const schedulerActions = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('scheduler:')));
    expect(new Set(schedulerActions.flatMap((s) => asArray(s.Action)))).toEqual(new Set(['scheduler:GetScheduleGroup']));
    expect(schedulerActions.flatMap((s) => asArray(s.Resource))).toHaveLength(1);
    expect(actionsOn('service-api', data.scheduleGroup)).toEqual(new Set(['scheduler:GetScheduleGroup']));
    expect([...actionsOf('service-api')].filter((a) => a === 'iam:PassRole' || a.startsWith('events:') || a.startsWith('sns:'))).toEqual([]);
  });

  it('a function reads the attributes only of queues it consumes or sends to (CDK grants come with them) or probes for health', () => {
    for (const f of functions) {
      for (const q of queues) {
        const reads = actionsOn(f.name, queue(q.name)).has('sqs:GetQueueAttributes');
        const expected = q.consumer === f.name || [...(f.access.sendTo ?? []), ...(f.access.health?.queues ?? [])].includes(q.name);
        expect(reads, `${f.name} → ${q.name}`).toBe(expected);
      }
    }
  });

  it('only functions with health access may read a schedule group', () => {
    for (const f of functions) {
      expect(actionsOf(f.name).has('scheduler:GetScheduleGroup'), f.name).toBe(Boolean(f.access.health?.scheduleGroup));
    }
  });

  it("preorders-api sends to no queue: what it commits reaches intake on the table's stream", () => {
    for (const q of queues) expect(actionsOn('preorders-api', queue(q.name)), q.name).toEqual(new Set());
    expect([...actionsOf('preorders-api')].filter((a) => a.startsWith('sqs:'))).toEqual([]);
  });

  it('a function sends only to the queues its access lists', () => {
    for (const f of functions) {
      for (const q of queues) {
        const canSend = actionsOn(f.name, queue(q.name)).has('sqs:SendMessage');
        expect(canSend, `${f.name} → ${q.name}`).toBe((f.access.sendTo ?? []).includes(q.name));
      }
    }
  });

  it('a queue consumer may receive from and delete on its own queue only', () => {
    for (const q of queues) {
      const consumed = actionsOn(q.consumer, queue(q.name));
      expect(consumed).toContain('sqs:ReceiveMessage');
      expect(consumed).toContain('sqs:DeleteMessage');
      for (const f of functions.filter((spec) => spec.name !== q.consumer)) {
        expect(actionsOn(f.name, queue(q.name)), `${f.name} on ${q.name}`).not.toContain('sqs:ReceiveMessage');
      }
    }
  });

  it('the authorizer may only GetItem on the table (client records): no SQS, EventBridge, Scheduler, IAM, Cognito or Secrets Manager', () => {
    const all = [...actionsOf('authorizer')];
    expect(all.filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:GetItem']);
    for (const service of ['sqs:', 'events:', 'scheduler:', 'iam:', 'cognito-idp:', 'secretsmanager:', 'kms:']) {
      expect(all.filter((a) => a.startsWith(service)), service).toEqual([]);
    }
  });

  it(`functions that manage clients may ${clientManagementActions.join(' and ')} on the user pool and nothing else of Cognito; no other function may touch Cognito`, () => {
    const managers = functions.filter((f) => f.access.identity?.manageClients);
    expect(managers.map((f) => f.name)).toEqual(['operator-api']);
    const pool = must(data.userPool, 'the user pool');
    for (const f of functions) {
      const onCognito = statementsOf(f.name).filter((s) => asArray(s.Action).some((a) => a.startsWith('cognito-idp:')));
      if (!f.access.identity?.manageClients) {
        expect(onCognito, f.name).toEqual([]);
        continue;
      }
      expect(onCognito, f.name).toHaveLength(1);
      const statement = must(onCognito[0], 'Cognito statement');
      expect(new Set(asArray(statement.Action)), f.name).toEqual(new Set(['cognito-idp:CreateUserPoolClient', 'cognito-idp:DeleteUserPoolClient']));
      expect(asArray(statement.Resource), f.name).toHaveLength(1);
      expect(rendered(asArray(statement.Resource)[0]), f.name).toBe(`${logicalId(pool)}.Arn`);
      expect(statement.Condition, f.name).toBeUndefined();
    }
  });

  it('no function may read a secret', () => {
    for (const f of functions) {
      expect([...actionsOf(f.name)].filter((a) => a.startsWith('secretsmanager:')), f.name).toEqual([]);
    }
  });

  it('functions with notify access may only Publish to the buyer-notification topic; no other function may touch SNS', () => {
    const notifiers = functions.filter((f) => f.access.notify);
    expect(notifiers.length).toBeGreaterThan(0);
    for (const f of functions) {
      const sns = [...actionsOf(f.name)].filter((a) => a.startsWith('sns:'));
      expect(sns, f.name).toEqual(f.access.notify ? ['sns:Publish'] : []);
      expect(actionsOn(f.name, data.notificationTopic), f.name).toEqual(new Set(f.access.notify ? ['sns:Publish'] : []));
      // The AWS-managed SNS key needs no grant: the only KMS actions are on the webhook-secrets key (next test).
      const kms = statementsOf(f.name).filter((s) => asArray(s.Action).some((a) => a.startsWith('kms:')));
      for (const s of kms) expect(asArray(s.Resource).every((r) => refersTo(r, logicalId(data.webhookSecretsKey))), f.name).toBe(true);
    }
  });

  it('webhook secrets: only the factory API seals them, only the deliverer opens signing secrets, and the API opens only the copy for a replayed create', () => {
    const kmsOf = (name: FunctionName) =>
      statementsOf(name)
        .filter((s) => asArray(s.Action).some((a) => a.startsWith('kms:')))
        .map((s) => ({ actions: [...asArray(s.Action)].sort(), condition: (s as { Condition?: unknown }).Condition ?? null }));
    const useIs = (uses: string[]) => ({
      'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['c2m:webhookId', 'c2m:use'] },
      StringEquals: { 'kms:EncryptionContext:c2m:use': uses },
    });
    for (const f of functions) {
      const expected =
        f.name === 'factory-api'
          ? [{ actions: ['kms:Encrypt'], condition: null }, { actions: ['kms:Decrypt'], condition: useIs(['reveal']) }]
          : f.name === 'webhook-deliverer'
            ? [{ actions: ['kms:Decrypt'], condition: useIs(['sign']) }]
            : [];
      expect(kmsOf(f.name), f.name).toEqual(expected);
    }
    dataTemplate.hasResource('AWS::KMS::Key', { Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain' });
  });

  it('functions that publish may PutEvents on the c2m bus and nothing else of EventBridge; others may not', () => {
    for (const f of functions) {
      const events = [...actionsOf(f.name)].filter((a) => a.startsWith('events:'));
      expect(events, f.name).toEqual(f.access.publish ? ['events:PutEvents'] : []);
      if (f.access.publish) expect(actionsOn(f.name, data.bus), f.name).toContain('events:PutEvents');
    }
  });

  it.each(functions.filter((f) => f.access.schedules).map((f) => [f.name]))(
    `%s may create, read and delete schedules in ${campaignScheduleGroup} only, and pass only the campaign scheduler role`,
    (name) => {
      const statements = statementsOf(name as FunctionName);
      const scheduler = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('scheduler:')));
      expect(new Set(scheduler.flatMap((s) => asArray(s.Action)))).toEqual(
        new Set(['scheduler:CreateSchedule', 'scheduler:DeleteSchedule']),
      );
      for (const s of scheduler) expect(JSON.stringify(s.Resource)).toMatch(new RegExp(`:schedule/${campaignScheduleGroup}/\\*"`));
      const passRole = statements.filter((s) => asArray(s.Action).includes('iam:PassRole'));
      expect(passRole).toHaveLength(1);
      expect(asArray(must(passRole[0], 'PassRole statement').Resource)).toHaveLength(1);
      expect(refersTo(must(passRole[0], 'PassRole statement').Resource, logicalId(data.campaignSchedulerRole))).toBe(true);
    },
  );

  it('functions without schedules access have no Scheduler or PassRole actions, beyond reading the group for health', () => {
    for (const f of functions.filter((spec) => !spec.access.schedules)) {
      const actions = [...actionsOf(f.name)];
      const allowed = f.access.health?.scheduleGroup ? ['scheduler:GetScheduleGroup'] : [];
      expect(actions.filter((a) => a.startsWith('scheduler:') || a === 'iam:PassRole'), f.name).toEqual(allowed);
    }
  });
});

describe('c2m-compute: queue consumers', () => {
  it.each(queues.map((q) => [q.name, q] as const))(
    '%s feeds its consumer in batches, reporting partial batch failures',
    (name, spec) => {
      computeTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId(fn(spec.consumer)) },
        EventSourceArn: Match.anyValue(),
        BatchSize: spec.batchSize,
        MaximumBatchingWindowInSeconds: spec.maxBatchingWindowSeconds > 0 ? spec.maxBatchingWindowSeconds : Match.absent(),
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      const mappings = Object.values(
        resourcesOf(computeTemplate, 'AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: logicalId(fn(spec.consumer)) } } }),
      );
      expect(mappings.some((m) => refersTo(m.Properties['EventSourceArn'], logicalId(queue(name))))).toBe(true);
    },
  );
});

describe('c2m-compute: the REST API', () => {
  const apiResources = resourcesOf(computeTemplate, 'AWS::ApiGateway::Resource');
  const pathOf = (id: string): string => {
    const resource = must(apiResources[id], `API resource ${id}`);
    const parent = resource.Properties['ParentId'] as { Ref?: string };
    return `${parent.Ref ? pathOf(parent.Ref) : ''}/${String(resource.Properties['PathPart'])}`;
  };
  const methods = Object.values(resourcesOf(computeTemplate, 'AWS::ApiGateway::Method')).map((m) => ({
    method: m.Properties['HttpMethod'] as string,
    path: pathOf((m.Properties['ResourceId'] as { Ref: string }).Ref),
    properties: m.Properties,
  }));
  const authorizerId = logicalId(compute.api.authorizer);

  it('serves exactly the topology routes', () => {
    expect(new Set(methods.map((m) => `${m.method} ${m.path}`))).toEqual(new Set(routes.map((r) => `${r.method} ${r.path}`)));
  });

  it.each(routes.map((r) => [`${r.method} ${r.path}`, r] as const))('%s is proxied to its function with the right authorization', (_route, route) => {
    const method = must(
      methods.find((m) => m.method === route.method && m.path === route.path),
      `${route.method} ${route.path}`,
    );
    expect(method.properties).toMatchObject({
      AuthorizationType: route.auth ? 'CUSTOM' : 'NONE',
      Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
    });
    expect(method.properties['AuthorizerId']).toEqual(route.auth ? { Ref: authorizerId } : undefined);
    expect(refersTo((method.properties['Integration'] as { Uri: unknown }).Uri, logicalId(fn(route.fn)))).toBe(true);
  });

  it(`the token authorizer is the authorizer function, reads the Authorization header, caches a decision ${identity.authorizerCacheSeconds} s`, () => {
    computeTemplate.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: identity.authorizerCacheSeconds,
    });
    // Revocation reaches a live token within a minute: this cache, then the authorizer's client-record cache.
    expect(identity.authorizerCacheSeconds).toBe(20);
    expect(identity.authorizerCacheSeconds + identity.clientRecordCacheSeconds).toBeLessThanOrEqual(60);
    const authorizer = must(resourcesOf(computeTemplate, 'AWS::ApiGateway::Authorizer')[authorizerId], 'authorizer');
    expect(refersTo(authorizer.Properties['AuthorizerUri'], logicalId(fn('authorizer')))).toBe(true);
  });

  it('the prod stage writes a JSON access log with requestId, principalId, status and latency', () => {
    const stage = must(Object.values(resourcesOf(computeTemplate, 'AWS::ApiGateway::Stage'))[0], 'stage');
    expect(stage.Properties['StageName']).toBe('prod');
    const accessLog = stage.Properties['AccessLogSetting'] as { DestinationArn: unknown; Format: string };
    expect(refersTo(accessLog.DestinationArn, logicalId(compute.api.accessLogGroup))).toBe(true);
    const format = JSON.parse(accessLog.Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      principalId: '$context.authorizer.principalId',
      status: '$context.status',
      latency: '$context.responseLatency',
    });
  });

  it('the prod stage throttles at the topology limits, traces and has metrics, without execution logs', () => {
    computeTemplate.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      TracingEnabled: true,
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: throttling.rateLimit,
          ThrottlingBurstLimit: throttling.burstLimit,
          MetricsEnabled: true,
          LoggingLevel: 'OFF',
          DataTraceEnabled: false,
        }),
      ],
    });
  });

  // THROTTLED: the stage's limits; INTEGRATION_FAILURE: Lambda itself throttled (concurrency);
  // AUTHORIZER_FAILURE: the authorizer throttled at its reserved concurrency. API Gateway would
  // otherwise answer the last two with a 5xx.
  it.each(['THROTTLED', 'INTEGRATION_FAILURE', 'AUTHORIZER_FAILURE'])('overload (%s) gets 429 problem+json with Retry-After: 1', (type) => {
    computeTemplate.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: type,
      StatusCode: '429',
      ResponseParameters: {
        'gatewayresponse.header.Retry-After': "'1'",
        'gatewayresponse.header.Content-Type': "'application/problem+json'",
      },
    });
  });

  it.each(Object.keys(gatewayResponses) as GatewayResponseType[])('gateway response %s is the shared RFC 9457 problem', (type) => {
    const problem = gatewayResponses[type];
    computeTemplate.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: type,
      StatusCode: String(problem.status),
      ResponseTemplates: { 'application/json': gatewayProblemBody(type) },
    });
    expect(JSON.parse(gatewayProblemBody(type))).toEqual({
      type: 'about:blank',
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
    });
  });

  it('a web ACL on the stage answers bodies over maxBodyBytes with 413 before the API runs', () => {
    computeTemplate.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      AssociationConfig: { RequestBody: { API_GATEWAY: { DefaultSizeInspectionLimit: 'KB_64' } } },
      // The ACL's other rules (reputation, rates, managed groups) are asserted in isolation.test.ts.
      Rules: Match.arrayWith([
        Match.objectLike({
          Statement: {
            SizeConstraintStatement: Match.objectLike({
              FieldToMatch: { Body: { OversizeHandling: 'MATCH' } },
              ComparisonOperator: 'GT',
              Size: maxBodyBytes,
            }),
          },
          Action: { Block: { CustomResponse: { ResponseCode: 413, CustomResponseBodyKey: 'request-too-large' } } },
        }),
      ]),
      CustomResponseBodies: Match.objectLike({
        'request-too-large': { ContentType: 'APPLICATION_JSON', Content: gatewayProblemBody('REQUEST_TOO_LARGE') },
      }),
    });
    const association = must(Object.values(resourcesOf(computeTemplate, 'AWS::WAFv2::WebACLAssociation'))[0], 'association');
    expect(refersTo(association.Properties['ResourceArn'], logicalId(compute.api.restApi.deploymentStage))).toBe(true);
    expect(refersTo(association.Properties['WebACLArn'], logicalId(compute.api.webAcl))).toBe(true);
  });

  it('the API URL is a stack output', () => {
    computeTemplate.hasOutput('ApiUrl', { Value: Match.anyValue() });
  });
});

describe('c2m-compute: alarms and dashboard', () => {
  it.each(functions.map((f) => [f.name]))('%s alarms the operators on any error in 5 minutes and on any throttle', (name) => {
    for (const metric of ['Errors', 'Throttles']) {
      computeTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(fn(name as FunctionName)) } }],
        Period: 300,
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [Match.anyValue()],
      });
    }
    const alarms = Object.values(
      resourcesOf(computeTemplate, 'AWS::CloudWatch::Alarm', {
        Properties: { Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(fn(name as FunctionName)) } }] },
      }),
    );
    for (const alarm of alarms) expect(refersTo(alarm.Properties['AlarmActions'], logicalId(data.alarmTopic))).toBe(true);
  });

  it("an outbox item the clock's relay moved aside pages the operator, on the metric the relay counts", () => {
    expect(outboxQuarantineMetric).toBe(outboxMetrics.quarantined);
    computeTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'c2m-outbox-quarantine',
      Namespace: 'c2m',
      MetricName: outboxMetrics.quarantined,
      Dimensions: [{ Name: 'service', Value: 'campaign-clock' }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    const alarm = Object.values(resourcesOf(computeTemplate, 'AWS::CloudWatch::Alarm', { Properties: { AlarmName: 'c2m-outbox-quarantine' } }))[0];
    expect(refersTo(alarm?.Properties['AlarmActions'], logicalId(data.alarmTopic))).toBe(true);
  });

  it('the c2m dashboard charts the business metrics by service, API errors and latency, DLQ depth and function errors', () => {
    const dashboard = must(
      Object.values(resourcesOf(computeTemplate, 'AWS::CloudWatch::Dashboard', { Properties: { DashboardName: 'c2m' } }))[0],
      'c2m dashboard',
    );
    const body = JSON.stringify(dashboard.Properties['DashboardBody']);
    for (const metric of businessMetrics) expect(body).toContain(`{c2m,service} MetricName=\\\\\\"${metric}\\\\\\"`);
    for (const metric of ['4XXError', '5XXError', 'Latency']) expect(body).toContain(metric);
    for (const dlq of data.deadLetterQueues.values()) expect(refersTo(body, logicalId(dlq))).toBe(true);
    for (const f of functions) expect(refersTo(body, logicalId(fn(f.name)))).toBe(true);
  });
});

/** Another build of the app, with identity context; its templates, and each function's environment by name. */
const buildWithContext = (context: Record<string, unknown>) => {
  const other = buildApp({ bundling: false, context });
  const otherData = Template.fromStack(other.data);
  const otherCompute = Template.fromStack(other.compute);
  const outputs = (otherData.toJSON() as { Outputs: Record<string, { Value: unknown }> }).Outputs;
  const environment = (name: FunctionName): Record<string, unknown> => {
    const resource = must(
      Object.values(resourcesOf(otherCompute, 'AWS::Lambda::Function')).find(
        (r) => (r.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables['POWERTOOLS_SERVICE_NAME'] === name,
      ),
      `function ${name}`,
    );
    return (resource.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
  };
  const trusted = (): unknown => JSON.parse(rendered(environment('authorizer')[envNames.trustedIssuers], outputs));
  const allActions = (): string[] =>
    [otherData, otherCompute].flatMap((template) =>
      Object.values(resourcesOf(template, 'AWS::IAM::Policy')).flatMap((p) =>
        (p.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement.flatMap((s) => asArray(s.Action)),
      ),
    );
  return { ...other, dataTemplate: otherData, computeTemplate: otherCompute, outputs, environment, trusted, allActions };
};

const operatorIdp = { issuer: 'https://login.example-operator.com/c2m', jwksUri: 'https://login.example-operator.com/c2m/jwks', audience: 'c2m-api' };
const platformIdp = { issuer: 'https://id.example-live.com', jwksUri: 'https://id.example-live.com/.well-known/jwks.json', audience: 'c2m', buyerClaim: 'uid' };

describe(`with context ${identityContextKeys.externalIssuer} (the operator brings their own IdP)`, () => {
  const byo = buildWithContext({ [identityContextKeys.externalIssuer]: { ...operatorIdp, groupsClaim: 'roles' } });

  it('there is no user pool, nor anything of Cognito', () => {
    expect(byo.data.userPool).toBeUndefined();
    for (const type of ['AWS::Cognito::UserPool', 'AWS::Cognito::UserPoolClient', 'AWS::Cognito::UserPoolDomain', 'AWS::Cognito::UserPoolResourceServer']) {
      byo.dataTemplate.resourceCountIs(type, 0);
    }
    expect(Object.keys(byo.outputs).filter((name) => ['UserPoolId', 'TokenEndpoint', 'ConsoleClientId', 'PlatformClientId'].includes(name))).toEqual([]);
  });

  it("the authorizer trusts the operator's issuer, for c2m's own principals, with its audience and groups claim", () => {
    // Users are anchors only in the anchor group: another IdP's machine tokens may look like a user's.
    expect(byo.trusted()).toEqual([{ ...operatorIdp, names: ['c2m'], groupsClaim: 'roles', anchorGroup: 'anchor' }]);
    expect(() => z.array(TrustedIssuer).parse(byo.trusted())).not.toThrow();
  });

  it("service-api names the operator's discovery document; the outputs name the issuer", () => {
    expect(byo.environment('service-api')[envNames.oidcDiscoveryUrl]).toBe(`${operatorIdp.issuer}/.well-known/openid-configuration`);
    byo.dataTemplate.hasOutput('IssuerUrl', { Value: operatorIdp.issuer });
    byo.dataTemplate.hasOutput('OpenIdConfigurationUrl', { Value: `${operatorIdp.issuer}/.well-known/openid-configuration` });
  });

  it(`operator-api is told there is no pool (${noUserPool})`, () => {
    expect(byo.environment('operator-api')[envNames.userPoolId]).toBe(noUserPool);
  });

  it('no role in either stack may call Cognito', () => {
    const actions = byo.allActions();
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((a) => a.startsWith('cognito-idp:'))).toEqual([]);
  });

  it('reads the context as JSON too, as `cdk -c` passes it', () => {
    const fromCli = buildWithContext({ [identityContextKeys.externalIssuer]: JSON.stringify(operatorIdp) });
    expect(fromCli.trusted()).toEqual([{ ...operatorIdp, names: ['c2m'], anchorGroup: 'anchor' }]);
  });

  it('refuses an issuer that is not https, naming the context key', () => {
    expect(() => buildApp({ bundling: false, context: { [identityContextKeys.externalIssuer]: { ...operatorIdp, issuer: 'http://login.example-operator.com' } } })).toThrow(
      new RegExp(`${identityContextKeys.externalIssuer} is invalid: issuer`),
    );
  });
});

describe(`with context ${identityContextKeys.platformIssuer} (the live platform's IdP)`, () => {
  const withPlatform = buildWithContext({ [identityContextKeys.platformIssuer]: platformIdp });

  it("the authorizer trusts the pool for c2m's principals and the platform for buyers and live rooms, by claim", () => {
    const trusted = withPlatform.trusted() as { issuer: string; names: string[] }[];
    expect(trusted).toHaveLength(2);
    expect(trusted[0]?.names).toEqual(['c2m']);
    expect(trusted[1]).toEqual({ ...platformIdp, names: ['platform'] });
    expect(z.array(TrustedIssuer).parse(trusted)[1]).toMatchObject({ buyerClaim: 'uid', roomClaim: 'room_id' });
  });

  it('no warning about buyers and live rooms', () => {
    expect(Annotations.fromStack(withPlatform.data).findWarning('*', Match.stringLikeRegexp(identityContextKeys.platformIssuer))).toEqual([]);
  });

  it('refuses a platform issuer without an audience', () => {
    const { audience: _audience, ...withoutAudience } = platformIdp;
    expect(() => buildApp({ bundling: false, context: { [identityContextKeys.platformIssuer]: withoutAudience } })).toThrow(/audience/);
  });
});

describe('with context c2m:authDomainPrefix and c2m:consoleUrls', () => {
  const consoleUrls = { callbackUrls: ['https://console.example.com/callback'], logoutUrls: ['https://console.example.com/'] };
  const custom = buildWithContext({ [identityContextKeys.authDomainPrefix]: 'c2m-prod', [identityContextKeys.consoleUrls]: consoleUrls });

  it('the hosted UI and the console client use them', () => {
    custom.dataTemplate.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'c2m-prod' });
    custom.dataTemplate.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      CallbackURLs: consoleUrls.callbackUrls,
      LogoutURLs: consoleUrls.logoutUrls,
    });
  });

  it('refuses a plain-http console URL other than localhost', () => {
    expect(() =>
      buildApp({ bundling: false, context: { [identityContextKeys.consoleUrls]: { ...consoleUrls, callbackUrls: ['http://console.example.com/callback'] } } }),
    ).toThrow(/c2m:consoleUrls is invalid/);
  });
});
