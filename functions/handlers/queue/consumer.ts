import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { flushMetrics, logger, withLogKeys } from '#shared/observability.ts';

/**
 * The Lambda entry for a queue consumer: records are handled one by one by
 * Powertools' BatchProcessor, and only the failed ones are reported back
 * (ReportBatchItemFailures), so SQS redelivers just those.
 */
export const sqsConsumer = (recordHandler: (record: SQSRecord) => Promise<void>) => {
  return async (event: SQSEvent, context: Context) => {
    // One processor per invocation: it keeps the batch's records on itself, and the
    // local runtime runs several batches of one queue at once in one process.
    const processor = new BatchProcessor(EventType.SQS);
    logger.addContext(context);
    try {
      return await withLogKeys({ function: context.functionName, awsRequestId: context.awsRequestId }, () =>
        processPartialResponse(event, recordHandler, processor, { context }),
      );
    } finally {
      flushMetrics();
    }
  };
};
