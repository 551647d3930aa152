import { z } from 'zod';
import { AwsApiError, parseRequest } from './errors.ts';
import { md5OfMessageAttributes, messageAttributesSchema, type MessageAttributes, type Queue, type QueueMessage } from './queue.ts';

/** What SQS answers to anything that is not a known queue. */
export const queueDoesNotExist = () =>
  new AwsApiError('QueueDoesNotExist', 'The specified queue does not exist.', 400, 'AWS.SimpleQueueService.NonExistentQueue');

const invalidParameter = (message: string) => new AwsApiError('InvalidParameterValue', message, 400, 'InvalidParameterValue');

const maxMessageBytes = 256 * 1024;
// The characters SQS accepts in a body (#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF).
const invalidBodyChar = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const queueUrl = z.string().min(1).optional();
const sendFields = {
  MessageBody: z.string(),
  DelaySeconds: z.int().min(0).max(900).optional(),
  MessageAttributes: messageAttributesSchema.optional(),
  MessageSystemAttributes: z.record(z.string(), z.unknown()).optional(),
  MessageDeduplicationId: z.string().optional(),
  MessageGroupId: z.string().optional(),
};
const batchId = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'batch entry ids are 1-80 of [A-Za-z0-9_-]');

const schemas = {
  SendMessage: z.object({ QueueUrl: queueUrl, ...sendFields }),
  SendMessageBatch: z.object({ QueueUrl: queueUrl, Entries: z.array(z.object({ Id: z.string(), ...sendFields })) }),
  ReceiveMessage: z.object({
    QueueUrl: queueUrl,
    AttributeNames: z.array(z.string()).optional(),
    MessageSystemAttributeNames: z.array(z.string()).optional(),
    MessageAttributeNames: z.array(z.string()).optional(),
    MaxNumberOfMessages: z.int().min(1).max(10).optional(),
    VisibilityTimeout: z.int().min(0).max(43_200).optional(),
    WaitTimeSeconds: z.int().min(0).max(20).optional(),
    ReceiveRequestAttemptId: z.string().optional(),
  }),
  DeleteMessage: z.object({ QueueUrl: queueUrl, ReceiptHandle: z.string().min(1) }),
  DeleteMessageBatch: z.object({ QueueUrl: queueUrl, Entries: z.array(z.object({ Id: z.string(), ReceiptHandle: z.string() })) }),
  ChangeMessageVisibility: z.object({ QueueUrl: queueUrl, ReceiptHandle: z.string().min(1), VisibilityTimeout: z.int().min(0).max(43_200) }),
  ChangeMessageVisibilityBatch: z.object({
    QueueUrl: queueUrl,
    Entries: z.array(z.object({ Id: z.string(), ReceiptHandle: z.string(), VisibilityTimeout: z.int().min(0).max(43_200) })),
  }),
  GetQueueUrl: z.object({ QueueName: z.string().min(1), QueueOwnerAWSAccountId: z.string().optional() }),
  GetQueueAttributes: z.object({ QueueUrl: queueUrl, AttributeNames: z.array(z.string()).optional() }),
  ListQueues: z.object({
    QueueNamePrefix: z.string().optional(),
    MaxResults: z.int().min(1).max(1000).optional(),
    NextToken: z.string().optional(),
  }),
  PurgeQueue: z.object({ QueueUrl: queueUrl }),
};

export interface SqsApiContext {
  readonly accountId: string;
  readonly queues: ReadonlyMap<string, Queue>;
  readonly urlOf: (name: string) => string;
  /** How often a long poll looks again for messages whose visibility timeout ended. */
  readonly pollIntervalMs: number;
  /** Resolves when the emulator stops, so long polls answer instead of holding the server open. */
  readonly stopped: Promise<void>;
}

export interface SqsRequest {
  readonly operation: string;
  readonly input: unknown;
  /** Request path: a queue URL's path works in place of `QueueUrl`, as on SQS. */
  readonly path: string;
  readonly senderId: string;
}

const systemAttributeNames = [
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SentTimestamp',
  'SenderId',
  'DeadLetterQueueSourceArn',
] as const;

const systemAttributes = (m: QueueMessage): Record<(typeof systemAttributeNames)[number], string | undefined> => ({
  ApproximateReceiveCount: String(m.receiveCount),
  ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp ?? m.sentTimestamp),
  SentTimestamp: String(m.sentTimestamp),
  SenderId: m.senderId,
  DeadLetterQueueSourceArn: m.deadLetterSourceArn,
});

const selectAttributes = (m: QueueMessage, names: ReadonlySet<string>): Record<string, string> | undefined => {
  if (names.size === 0) return undefined;
  const all = names.has('All');
  const values = systemAttributes(m);
  const out: Record<string, string> = {};
  for (const name of systemAttributeNames) {
    const value = values[name];
    if (value !== undefined && (all || names.has(name))) out[name] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
};

const selectMessageAttributes = (m: QueueMessage, names: readonly string[]): MessageAttributes | undefined => {
  if (!m.attributes || names.length === 0) return undefined;
  const wanted = (name: string) =>
    names.some((n) => n === 'All' || n === '.*' || n === name || (n.endsWith('.*') && name.startsWith(n.slice(0, -1))));
  const out: MessageAttributes = {};
  for (const [name, value] of Object.entries(m.attributes)) if (wanted(name)) out[name] = value;
  return Object.keys(out).length > 0 ? out : undefined;
};

const checkBody = (body: string): AwsApiError | undefined => {
  if (body.length === 0) return new AwsApiError('MissingParameter', 'The request must contain the parameter MessageBody.', 400, 'MissingParameter');
  if (Buffer.byteLength(body, 'utf8') > maxMessageBytes) {
    return invalidParameter(`One or more parameters are invalid. Reason: Message must be shorter than ${maxMessageBytes} bytes.`);
  }
  if (invalidBodyChar.test(body)) {
    return new AwsApiError('InvalidMessageContents', 'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF', 400, 'InvalidMessageContents');
  }
  return undefined;
};

const checkBatch = (entries: readonly { Id: string }[]): void => {
  if (entries.length === 0) {
    throw new AwsApiError('EmptyBatchRequest', 'There should be at least one entry in the request.', 400, 'AWS.SimpleQueueService.EmptyBatchRequest');
  }
  if (entries.length > 10) {
    throw new AwsApiError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`, 400, 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest');
  }
  const ids = new Set<string>();
  for (const e of entries) {
    if (!batchId.safeParse(e.Id).success) {
      throw new AwsApiError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.', 400, 'AWS.SimpleQueueService.InvalidBatchEntryId');
    }
    if (ids.has(e.Id)) {
      throw new AwsApiError('BatchEntryIdsNotDistinct', `Id ${e.Id} repeated.`, 400, 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct');
    }
    ids.add(e.Id);
  }
};

const waitForMessages = (queue: Queue, ms: number, stopped: Promise<void>): Promise<void> =>
  new Promise((resolve) => {
    const done = () => {
      off();
      clearTimeout(timer);
      resolve();
    };
    const off = queue.onAvailable(done);
    const timer = setTimeout(done, ms);
    void stopped.then(done);
  });

/**
 * The SQS operations our adapters, Powertools and operators' scripts use,
 * answered in the AWS JSON 1.0 protocol. Queues are fixed: CreateQueue and
 * friends answer UnsupportedOperation.
 */
export const createSqsApi = (ctx: SqsApiContext) => {
  let isStopped = false;
  void ctx.stopped.then(() => {
    isStopped = true;
  });

  const resolveQueue = (url: string | undefined, path: string): Queue => {
    let pathname = path;
    if (url !== undefined) {
      try {
        pathname = new URL(url).pathname;
      } catch {
        throw new AwsApiError('InvalidAddress', `The address ${url} is not valid for this endpoint.`, 404, 'InvalidAddress');
      }
    }
    const [account, name, ...rest] = pathname.split('/').filter((s) => s !== '');
    if (account !== ctx.accountId || name === undefined || rest.length > 0) throw queueDoesNotExist();
    const queue = ctx.queues.get(decodeURIComponent(name));
    if (!queue) throw queueDoesNotExist();
    return queue;
  };

  const messageOut = (m: QueueMessage, systemNames: ReadonlySet<string>, attributeNames: readonly string[]) => {
    const attributes = selectAttributes(m, systemNames);
    const messageAttributes = selectMessageAttributes(m, attributeNames);
    return {
      MessageId: m.id,
      ReceiptHandle: m.receiptHandle,
      MD5OfBody: m.md5OfBody,
      Body: m.body,
      ...(attributes && { Attributes: attributes }),
      ...(messageAttributes && { MessageAttributes: messageAttributes, MD5OfMessageAttributes: md5OfMessageAttributes(messageAttributes) }),
    };
  };

  const operations: Record<string, (input: unknown, req: SqsRequest) => unknown> = {
    SendMessage: (input, req) => {
      const r = parseRequest(schemas.SendMessage, input, invalidParameter);
      const queue = resolveQueue(r.QueueUrl, req.path);
      const bad = checkBody(r.MessageBody);
      if (bad) throw bad;
      const [m] = queue.send([{ body: r.MessageBody, delaySeconds: r.DelaySeconds, attributes: r.MessageAttributes, senderId: req.senderId }]);
      if (!m) throw new Error('send returned nothing');
      return { MessageId: m.id, MD5OfMessageBody: m.md5OfBody, ...(m.md5OfAttributes && { MD5OfMessageAttributes: m.md5OfAttributes }) };
    },

    SendMessageBatch: (input, req) => {
      const r = parseRequest(schemas.SendMessageBatch, input, invalidParameter);
      const queue = resolveQueue(r.QueueUrl, req.path);
      checkBatch(r.Entries);
      const total = r.Entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody, 'utf8'), 0);
      if (total > maxMessageBytes) {
        throw new AwsApiError('BatchRequestTooLong', `Batch requests cannot be longer than ${maxMessageBytes} bytes. You have sent ${total} bytes.`, 400, 'AWS.SimpleQueueService.BatchRequestTooLong');
      }
      const failed: Array<{ Id: string; SenderFault: boolean; Code: string; Message: string }> = [];
      const accepted = r.Entries.filter((e) => {
        const bad = checkBody(e.MessageBody);
        if (bad) failed.push({ Id: e.Id, SenderFault: true, Code: bad.queryCode ?? bad.code, Message: bad.message });
        return !bad;
      });
      const sent = queue.send(
        accepted.map((e) => ({ body: e.MessageBody, delaySeconds: e.DelaySeconds, attributes: e.MessageAttributes, senderId: req.senderId })),
      );
      return {
        Successful: sent.map((m, i) => ({
          Id: accepted[i]?.Id,
          MessageId: m.id,
          MD5OfMessageBody: m.md5OfBody,
          ...(m.md5OfAttributes && { MD5OfMessageAttributes: m.md5OfAttributes }),
        })),
        Failed: failed,
      };
    },

    ReceiveMessage: async (input, req) => {
      const r = parseRequest(schemas.ReceiveMessage, input, invalidParameter);
      const queue = resolveQueue(r.QueueUrl, req.path);
      const systemNames = new Set([...(r.AttributeNames ?? []), ...(r.MessageSystemAttributeNames ?? [])]);
      const max = r.MaxNumberOfMessages ?? 1;
      const visibility = r.VisibilityTimeout === undefined ? undefined : r.VisibilityTimeout * 1000;
      const deadline = Date.now() + (r.WaitTimeSeconds ?? 0) * 1000;
      for (;;) {
        const got = queue.receive(max, visibility);
        const remaining = deadline - Date.now();
        if (got.length > 0 || remaining <= 0 || isStopped) {
          return got.length > 0 ? { Messages: got.map((m) => messageOut(m, systemNames, r.MessageAttributeNames ?? [])) } : {};
        }
        await waitForMessages(queue, Math.min(remaining, ctx.pollIntervalMs), ctx.stopped);
      }
    },

    DeleteMessage: (input, req) => {
      const r = parseRequest(schemas.DeleteMessage, input, invalidParameter);
      resolveQueue(r.QueueUrl, req.path).deleteByHandles([r.ReceiptHandle]);
      return {};
    },

    DeleteMessageBatch: (input, req) => {
      const r = parseRequest(schemas.DeleteMessageBatch, input, invalidParameter);
      const queue = resolveQueue(r.QueueUrl, req.path);
      checkBatch(r.Entries);
      const successful: Array<{ Id: string }> = [];
      const failed: Array<{ Id: string; SenderFault: boolean; Code: string; Message: string }> = [];
      const ids: string[] = [];
      for (const e of r.Entries) {
        try {
          ids.push(queue.messageIdOf(e.ReceiptHandle));
          successful.push({ Id: e.Id });
        } catch (err) {
          if (!(err instanceof AwsApiError)) throw err;
          failed.push({ Id: e.Id, SenderFault: true, Code: err.queryCode ?? err.code, Message: err.message });
        }
      }
      queue.deleteIds(ids);
      return { Successful: successful, Failed: failed };
    },

    ChangeMessageVisibility: (input, req) => {
      const r = parseRequest(schemas.ChangeMessageVisibility, input, invalidParameter);
      resolveQueue(r.QueueUrl, req.path).changeVisibility(r.ReceiptHandle, r.VisibilityTimeout * 1000);
      return {};
    },

    ChangeMessageVisibilityBatch: (input, req) => {
      const r = parseRequest(schemas.ChangeMessageVisibilityBatch, input, invalidParameter);
      const queue = resolveQueue(r.QueueUrl, req.path);
      checkBatch(r.Entries);
      const successful: Array<{ Id: string }> = [];
      const failed: Array<{ Id: string; SenderFault: boolean; Code: string; Message: string }> = [];
      for (const e of r.Entries) {
        try {
          queue.changeVisibility(e.ReceiptHandle, e.VisibilityTimeout * 1000);
          successful.push({ Id: e.Id });
        } catch (err) {
          if (!(err instanceof AwsApiError)) throw err;
          failed.push({ Id: e.Id, SenderFault: true, Code: err.queryCode ?? err.code, Message: err.message });
        }
      }
      return { Successful: successful, Failed: failed };
    },

    GetQueueUrl: (input) => {
      const r = parseRequest(schemas.GetQueueUrl, input, invalidParameter);
      if ((r.QueueOwnerAWSAccountId ?? ctx.accountId) !== ctx.accountId || !ctx.queues.has(r.QueueName)) throw queueDoesNotExist();
      return { QueueUrl: ctx.urlOf(r.QueueName) };
    },

    GetQueueAttributes: (input, req) => {
      const r = parseRequest(schemas.GetQueueAttributes, input, invalidParameter);
      const queue = resolveQueue(r.QueueUrl, req.path);
      const names = new Set(r.AttributeNames ?? []);
      const depth = queue.depth();
      const seconds = (ms: number) => String(Math.floor(ms / 1000));
      const all: Record<string, string> = {
        QueueArn: queue.arn,
        ApproximateNumberOfMessages: String(depth.visible),
        ApproximateNumberOfMessagesNotVisible: String(depth.inFlight),
        ApproximateNumberOfMessagesDelayed: String(depth.delayed),
        VisibilityTimeout: seconds(queue.visibilityTimeoutMs),
        CreatedTimestamp: seconds(queue.createdAt),
        LastModifiedTimestamp: seconds(queue.createdAt),
        DelaySeconds: '0',
        MaximumMessageSize: String(maxMessageBytes),
        MessageRetentionPeriod: '345600',
        ReceiveMessageWaitTimeSeconds: '0',
        SqsManagedSseEnabled: 'false',
        ...(queue.redrive && {
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queue.redrive.deadLetter.arn, maxReceiveCount: queue.redrive.maxReceiveCount }),
        }),
      };
      const picked = Object.fromEntries(Object.entries(all).filter(([k]) => names.has('All') || names.has(k)));
      return Object.keys(picked).length > 0 ? { Attributes: picked } : {};
    },

    ListQueues: (input) => {
      const r = parseRequest(schemas.ListQueues, input, invalidParameter);
      const urls = [...ctx.queues.keys()].filter((n) => n.startsWith(r.QueueNamePrefix ?? '')).map(ctx.urlOf);
      return urls.length > 0 ? { QueueUrls: urls.slice(0, r.MaxResults ?? 1000) } : {};
    },

    PurgeQueue: (input, req) => {
      const r = parseRequest(schemas.PurgeQueue, input, invalidParameter);
      resolveQueue(r.QueueUrl, req.path).purge();
      return {};
    },
  };

  return async (req: SqsRequest): Promise<unknown> => {
    const op = operations[req.operation];
    if (!op) {
      throw new AwsApiError(
        'UnsupportedOperation',
        `${req.operation} is not supported locally: queues are fixed by lib/topology.ts.`,
        400,
        'AWS.SimpleQueueService.UnsupportedOperation',
      );
    }
    return op(req.input, req);
  };
};
