import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AwsApiError } from './errors.ts';
import type { EventBus } from './event-bus.ts';
import type { Scheduler } from './scheduler.ts';
import type { SqsRequest } from './sqs-api.ts';

export interface ServiceRoutes {
  readonly sqs: (req: SqsRequest) => Promise<unknown>;
  readonly bus: EventBus;
  readonly scheduler: Scheduler;
  readonly cognito: (operation: string, input: Record<string, unknown>) => Promise<unknown>;
  readonly kms: (operation: string, input: Record<string, unknown>) => Promise<unknown>;
  readonly onError: (fields: Record<string, unknown>) => void;
}

/** How each service's wire protocol frames answers and errors, as the SDK deserializers expect them. */
interface Protocol {
  readonly contentType: string;
  readonly internalError: string;
  error(err: AwsApiError): { headers: Record<string, string>; body: unknown };
}

const sqsProtocol: Protocol = {
  contentType: 'application/x-amz-json-1.0',
  internalError: 'InternalError',
  // SQS is "awsQueryCompatible": the SDK reads x-amzn-query-error first and maps
  // the legacy code (AWS.SimpleQueueService.NonExistentQueue) to QueueDoesNotExist.
  error: (err) => ({
    headers: { 'x-amzn-query-error': `${err.queryCode ?? err.code};${err.status >= 500 ? 'Receiver' : 'Sender'}` },
    body: { __type: `com.amazonaws.sqs#${err.code}`, message: err.message },
  }),
};

const eventsProtocol: Protocol = {
  contentType: 'application/x-amz-json-1.1',
  internalError: 'InternalException',
  error: (err) => ({ headers: {}, body: { __type: err.code, message: err.message } }),
};

const cognitoProtocol: Protocol = {
  contentType: 'application/x-amz-json-1.1',
  internalError: 'InternalErrorException',
  error: (err) => ({ headers: { 'x-amzn-errortype': err.code }, body: { __type: err.code, message: err.message } }),
};

const kmsProtocol: Protocol = {
  contentType: 'application/x-amz-json-1.1',
  internalError: 'KMSInternalException',
  error: (err) => ({ headers: { 'x-amzn-errortype': err.code }, body: { __type: err.code, message: err.message } }),
};

const schedulerProtocol: Protocol = {
  contentType: 'application/json',
  internalError: 'InternalServerException',
  error: (err) => ({ headers: { 'x-amzn-errortype': err.code }, body: { Message: err.message } }),
};

const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
};

const parseJson = (text: string, protocol: Protocol): unknown => {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new AwsApiError(protocol === sqsProtocol ? 'InvalidParameterValue' : 'SerializationException', 'The request body is not valid JSON.', 400, 'InvalidParameterValue');
  }
};

/** The caller's access key id, which SQS reports as SenderId. */
const senderIdOf = (req: IncomingMessage): string => /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? 'anonymous';

const send = (res: ServerResponse, status: number, contentType: string, body: unknown, headers: Record<string, string> = {}) => {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  res.end(text);
};

/** One HTTP endpoint for all five services, told apart by X-Amz-Target (JSON RPC) or path (Scheduler's REST). */
export const createEmulatorServer = (routes: ServiceRoutes): Server =>
  createServer((req, res) => {
    const target = req.headers['x-amz-target'];
    const url = new URL(req.url ?? '/', 'http://emulator.local');
    const protocol =
      typeof target === 'string' && target.startsWith('AmazonSQS.')
        ? sqsProtocol
        : typeof target === 'string' && target.startsWith('AWSEvents.')
          ? eventsProtocol
          : typeof target === 'string' && target.startsWith('AWSCognitoIdentityProviderService.')
            ? cognitoProtocol
            : typeof target === 'string' && target.startsWith('TrentService.')
              ? kmsProtocol
              : schedulerProtocol;
    const answer = async (): Promise<{ status: number; body: unknown }> => {
      const raw = await readBody(req);
      if (protocol === sqsProtocol && typeof target === 'string') {
        const operation = target.slice('AmazonSQS.'.length);
        const input = parseJson(raw, protocol);
        return { status: 200, body: await routes.sqs({ operation, input, path: url.pathname, senderId: senderIdOf(req) }) };
      }
      if (protocol === eventsProtocol && typeof target === 'string') {
        const operation = target.slice('AWSEvents.'.length);
        if (operation !== 'PutEvents') {
          throw new AwsApiError('UnknownOperationException', `${operation} is not supported by the local event bus; rules come from lib/topology.ts.`);
        }
        return { status: 200, body: routes.bus.putEvents(parseJson(raw, protocol)) };
      }
      if (protocol === cognitoProtocol && typeof target === 'string') {
        const operation = target.slice('AWSCognitoIdentityProviderService.'.length);
        return { status: 200, body: await routes.cognito(operation, parseJson(raw, protocol) as Record<string, unknown>) };
      }
      if (protocol === kmsProtocol && typeof target === 'string') {
        return { status: 200, body: await routes.kms(target.slice('TrentService.'.length), parseJson(raw, protocol) as Record<string, unknown>) };
      }
      const method = req.method ?? 'GET';
      const body = method === 'POST' || method === 'PUT' ? parseJson(raw, protocol) : {};
      const answered = routes.scheduler.handle(method, url.pathname, url.searchParams, body);
      if (!answered) throw new AwsApiError('UnknownOperationException', `No local operation at ${method} ${url.pathname}.`, 404);
      return answered;
    };
    answer().then(
      ({ status, body }) => send(res, status, protocol.contentType, body),
      (err: unknown) => {
        const apiError =
          err instanceof AwsApiError ? err : new AwsApiError(protocol.internalError, 'The emulator failed to process the request.', 500);
        if (!(err instanceof AwsApiError)) {
          routes.onError({ message: 'request failed', method: req.method, path: url.pathname, target, error: String(err) });
        }
        const { headers, body } = protocol.error(apiError);
        send(res, apiError.status, protocol.contentType, body, headers);
      },
    );
  });
