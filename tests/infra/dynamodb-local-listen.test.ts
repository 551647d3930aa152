import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackAddress, startDynamoDbLocal, type LocalDynamo } from '../../lib/local/dynamodb.ts';

/**
 * The local runtime's DynamoDB Local takes any credentials (and `npm start` shares
 * one database among them), so it must not be reachable from the network: only
 * from this machine.
 */

/** This machine's first address that is not loopback, if it has one. */
const outsideAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;

/** Whether a TCP connection to host:port is accepted, refused, or fails otherwise (its code). */
const reach = (host: string, port: number): Promise<string> =>
  new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(5_000, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? 'refused' : (err.code ?? String(err))));
  });

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ dataDir: null, sharedDb: false });
});
afterAll(() => dynamo?.stop());

describe('DynamoDB Local, as the local runtime starts it', () => {
  it('answers on the loopback address', async () => {
    const port = Number(new URL(dynamo.endpoint).port);
    expect(new URL(dynamo.endpoint).hostname).toBe(loopbackAddress);
    expect(await reach(loopbackAddress, port)).toBe('open');
  });

  it.runIf(outsideAddress !== undefined)("refuses connections to this machine's other addresses", async (ctx) => {
    // Only a JDK can hold it to loopback (lib/local/dynamodb.ts); with a JRE it warns at start and listens everywhere.
    // CI installs a JDK (.ci/run), so there it must hold; a developer's JRE-only machine skips, having been warned.
    if (dynamo.listenAddress !== loopbackAddress && process.env['CI'] !== 'true') ctx.skip();
    const port = Number(new URL(dynamo.endpoint).port);
    expect(await reach(outsideAddress as string, port)).toBe('refused');
  });
});
