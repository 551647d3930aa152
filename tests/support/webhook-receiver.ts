import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A factory's webhook receiver on 127.0.0.1, written from docs/webhooks.md and
 * not from c2m's own signing code: it verifies `C2M-Signature` over the raw body
 * (any `v1=`, within 5 minutes) with the secret the 201 gave.
 */
export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Checked on arrival, with the secret the 201 gave, as a receiver must. */
  readonly signatureValid: boolean;
  /** When it arrived (performance.now()), to tell what came first. */
  readonly arrivedAt: number;
}

export const verifySignature = (secret: string, header: string | undefined, body: string): boolean => {
  const fields = new Map<string, string[]>();
  for (const part of (header ?? '').split(',')) {
    const [key, value] = part.split('=', 2) as [string, string | undefined];
    if (value !== undefined) fields.set(key, [...(fields.get(key) ?? []), value]);
  }
  const t = fields.get('t')?.[0];
  if (!t || Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return (fields.get('v1') ?? []).some((v) => {
    const given = Buffer.from(v, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
};

/** Answers `status(n)` to its n-th request (200 unless told otherwise). */
export const startWebhookReceiver = async (status: (n: number) => number = () => 200) => {
  const received: Received[] = [];
  let secret = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = req.headers['c2m-signature'];
      received.push({
        headers: req.headers,
        body,
        signatureValid: verifySignature(secret, typeof header === 'string' ? header : undefined, body),
        arrivedAt: performance.now(),
      });
      res.writeHead(status(received.length)).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/c2m-events`,
    received,
    useSecret: (s: string) => {
      secret = s;
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
};
