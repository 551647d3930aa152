/**
 * Published AWS on-demand prices the bench turns its counts into, us-east-1,
 * as each service's pricing page listed them (DynamoDB's after its November
 * 2024 on-demand cut), first volume tier, no free tier. This machine cannot
 * reach the pages to check them again: change them here when they move.
 */
export const prices = {
  /** DynamoDB on-demand, per million write request units (1 KB each). */
  dynamoWriteMillion: 0.625,
  /** DynamoDB on-demand, per million read request units (4 KB strongly consistent, or two eventually consistent). */
  dynamoReadMillion: 0.125,
  /** Lambda, per million requests. */
  lambdaRequestMillion: 0.2,
  /** Lambda on arm64 (every c2m function), per GB-second. */
  lambdaArmGbSecond: 0.0000133334,
  /** API Gateway REST API, per million requests (first 333 million a month). */
  apiGatewayRestMillion: 3.5,
  /** SQS standard queue, per million requests (each 64 KB chunk of a request). */
  sqsMillion: 0.4,
  /** EventBridge, per million custom events published. */
  eventBridgeMillion: 1.0,
} as const;

/** A default on-demand table's write throughput quota (per table, per second). */
export const defaultTableWriteQuota = 40_000;
