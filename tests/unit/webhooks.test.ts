import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  autoDisableAfterMs,
  checkWebhookUrl,
  deliveryPayload,
  failedLongEnough,
  rotationOverlapMs,
  signingSecrets,
  type SealedSecret,
  type Webhook,
  ipv6Groups,
  maxKeptAttempts,
  newWebhookSecret,
  retryDelaySeconds,
  signatureHeader,
  verifySignature,
  withAttempt,
} from '../../functions/domain/webhooks.ts';

const secret = 'whsec_test-secret';
const body = '{"id":"batch.released:bat_1","sequence":7}';
const t = 1_800_000_000;

describe('Signature', () => {
  it('The header is t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>, as api.md documents it', () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(signatureHeader(secret, body, t)).toBe(`t=${t},v1=${expected}`);
  });

  it('A receiver with the secret verifies a delivery signed a moment ago', () => {
    expect(verifySignature(secret, body, signatureHeader(secret, body, t), { nowSeconds: t + 3 })).toEqual({ valid: true });
  });

  it('A changed body, another secret or a moved timestamp does not verify', () => {
    const header = signatureHeader(secret, body, t);
    expect(verifySignature(secret, `${body} `, header, { nowSeconds: t })).toEqual({ valid: false, reason: 'mismatch' });
    expect(verifySignature('whsec_other', body, header, { nowSeconds: t })).toEqual({ valid: false, reason: 'mismatch' });
    const moved = header.replace(`t=${t}`, `t=${t + 1}`);
    expect(verifySignature(secret, body, moved, { nowSeconds: t })).toEqual({ valid: false, reason: 'mismatch' });
  });

  it('A signature older or newer than the tolerance is refused, even if it is genuine (replays)', () => {
    const header = signatureHeader(secret, body, t);
    expect(verifySignature(secret, body, header, { nowSeconds: t + 300 }).valid).toBe(true);
    expect(verifySignature(secret, body, header, { nowSeconds: t + 301 })).toEqual({ valid: false, reason: 'outside-tolerance' });
    expect(verifySignature(secret, body, header, { nowSeconds: t - 301 })).toEqual({ valid: false, reason: 'outside-tolerance' });
    expect(verifySignature(secret, body, header, { nowSeconds: t + 3600, toleranceSeconds: 3600 }).valid).toBe(true);
  });

  it('Malformed headers are refused as malformed, not thrown on', () => {
    const v1 = signatureHeader(secret, body, t).split(',')[1];
    for (const header of [undefined, '', 'garbage', `t=${t}`, v1, `t=abc,${v1}`, `t=${t},v1=xyz`, `t=${t},t=${t},${v1}`]) {
      expect(verifySignature(secret, body, header, { nowSeconds: t }), String(header)).toEqual({ valid: false, reason: 'malformed' });
    }
  });

  it('During a secret rotation a header with two v1 values verifies with either secret; unknown schemes are ignored', () => {
    const old = signatureHeader('whsec_old', body, t).split(',')[1];
    const header = `${signatureHeader(secret, body, t)},${old},v2=future`;
    expect(verifySignature(secret, body, header, { nowSeconds: t }).valid).toBe(true);
    expect(verifySignature('whsec_old', body, header, { nowSeconds: t }).valid).toBe(true);
    expect(verifySignature('whsec_third', body, header, { nowSeconds: t }).valid).toBe(false);
  });

  it('Secrets are whsec_ and 32 random bytes, different every time', () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.slice('whsec_'.length), 'base64url')).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(a);
  });
});

describe('Rotation and disabling', () => {
  const sealed = (s: string) => s as SealedSecret;
  const hook: Webhook = {
    webhookId: 'whk_1',
    factoryId: 'f-1',
    url: 'https://factory.example.com/h',
    events: ['batch.released'],
    secret: sealed('kms1:new'),
    previousSecret: sealed('kms1:old'),
    previousSecretExpiresAt: '2026-12-02T12:00:00.000Z',
    status: 'ACTIVE',
    createdAt: '2026-11-01T00:00:00.000Z',
  };

  it('Both secrets sign, newest first, until the previous one expires 24 h after the rotation; then only the new one', () => {
    expect(rotationOverlapMs).toBe(24 * 3_600_000);
    expect(signingSecrets(hook, new Date('2026-12-02T11:59:59.999Z'))).toEqual(['kms1:new', 'kms1:old']);
    expect(signingSecrets(hook, new Date('2026-12-02T12:00:00.000Z'))).toEqual(['kms1:new']);
    const { previousSecret: _p, previousSecretExpiresAt: _e, ...never } = hook;
    expect(signingSecrets(never, new Date('2026-12-01T00:00:00.000Z'))).toEqual(['kms1:new']);
  });

  it('The header carries one v1 per signing secret, in order, each verifying with its own secret', () => {
    const header = signatureHeader(['new-secret', 'old-secret'], body, t);
    expect(header.split(',').map((p) => p.split('=')[0])).toEqual(['t', 'v1', 'v1']);
    for (const s of ['new-secret', 'old-secret']) expect(verifySignature(s, body, header, { nowSeconds: t })).toEqual({ valid: true });
    expect(verifySignature('third', body, header, { nowSeconds: t })).toEqual({ valid: false, reason: 'mismatch' });
  });

  it('A webhook is disabled by a failure at 3 days of failing, not before, and only while ACTIVE', () => {
    const since = '2026-12-01T00:00:00.000Z';
    const at = (ms: number) => new Date(Date.parse(since) + ms);
    expect(autoDisableAfterMs).toBe(3 * 86_400_000);
    expect(failedLongEnough({ status: 'ACTIVE', failingSince: since }, at(autoDisableAfterMs - 1))).toBe(false);
    expect(failedLongEnough({ status: 'ACTIVE', failingSince: since }, at(autoDisableAfterMs))).toBe(true);
    expect(failedLongEnough({ status: 'DISABLED', failingSince: since }, at(autoDisableAfterMs * 2))).toBe(false);
    expect(failedLongEnough({ status: 'ACTIVE' }, at(autoDisableAfterMs * 2))).toBe(false);
  });
});

describe('Payload', () => {
  it('The body carries the stable event id, type, sequence, occurredAt, factoryId and the event detail as data', () => {
    const data = { eventId: 'batch.released:bat_1', batchId: 'bat_1', factoryId: 'f-1', occurredAt: '2026-12-01T10:00:00.000Z' };
    const json = deliveryPayload({ id: data.eventId, type: 'batch.released', sequence: 7, occurredAt: data.occurredAt, factoryId: 'f-1', data });
    expect(JSON.parse(json)).toEqual({ id: data.eventId, type: 'batch.released', sequence: 7, occurredAt: data.occurredAt, factoryId: 'f-1', data });
    expect(Object.keys(JSON.parse(json) as object)).toEqual(['id', 'type', 'sequence', 'occurredAt', 'factoryId', 'data']);
  });

  it('A delivery keeps only its newest attempts', () => {
    let attempts = withAttempt([], { at: 'a0', statusCode: 500, durationMs: 1 });
    for (let i = 1; i < maxKeptAttempts + 5; i++) attempts = withAttempt(attempts, { at: `a${i}`, statusCode: 500, durationMs: 1 });
    expect(attempts).toHaveLength(maxKeptAttempts);
    expect(attempts[0]?.at).toBe('a5');
    expect(attempts.at(-1)?.at).toBe(`a${maxKeptAttempts + 4}`);
  });
});

describe('Retry backoff', () => {
  const schedule = { baseSeconds: 30, maxSeconds: 3600 };

  it('Try n waits between half and all of min(max, base × 2^(n-1)) seconds (equal jitter)', () => {
    const caps = [30, 60, 120, 240, 480, 960, 1920, 3600, 3600];
    caps.forEach((cap, i) => {
      expect(retryDelaySeconds(i + 1, schedule, () => 0), `try ${i + 1}, lowest`).toBe(cap / 2);
      expect(retryDelaySeconds(i + 1, schedule, () => 0.999_999), `try ${i + 1}, highest`).toBe(cap);
    });
  });

  it('Waits are whole seconds and never 0, so a retry never fires at once', () => {
    const short = { baseSeconds: 1, maxSeconds: 1 };
    for (const r of [0, 0.3, 0.7, 0.999]) expect(retryDelaySeconds(5, short, () => r)).toBe(1);
    for (let i = 0; i < 200; i++) {
      const d = retryDelaySeconds(3, schedule);
      expect(Number.isInteger(d)).toBe(true);
      expect(d).toBeGreaterThanOrEqual(60);
      expect(d).toBeLessThanOrEqual(120);
    }
  });
});

describe('URL policy', () => {
  const publicOnly = { allowLoopback: false };
  const local = { allowLoopback: true };
  const refused = (url: string, opts = publicOnly) => {
    const verdict = checkWebhookUrl(url, opts);
    expect(verdict.ok, url).toBe(false);
    if (verdict.ok) return '';
    expect(verdict.issue.path, url).toBe('url');
    return verdict.issue.message;
  };

  it('https to a public host is accepted, normalised', () => {
    expect(checkWebhookUrl('https://Hooks.Factory.example.com:8443/c2m?x=1', publicOnly)).toEqual({
      ok: true,
      url: 'https://hooks.factory.example.com:8443/c2m?x=1',
    });
    expect(checkWebhookUrl('https://93.184.216.34/hook', publicOnly).ok).toBe(true);
    expect(checkWebhookUrl('https://[2606:4700::1111]/hook', publicOnly).ok).toBe(true);
  });

  it('Plain http, other schemes and credentials are refused, naming url', () => {
    expect(refused('http://factory.example.com/hook')).toMatch(/https/);
    expect(refused('ftp://factory.example.com/hook')).toMatch(/https/);
    expect(refused('file:///etc/passwd')).toMatch(/https/);
    expect(refused('https://user:pass@factory.example.com/hook')).toMatch(/user name or password/);
    expect(refused('https://user@factory.example.com/hook')).toMatch(/user name or password/);
    expect(refused('not a url')).toMatch(/absolute URL/);
  });

  it('Private, loopback, link-local and unspecified IP literals are refused however they are spelled', () => {
    for (const url of [
      'https://10.1.2.3/',
      'https://172.16.0.1/',
      'https://172.31.255.255/',
      'https://192.168.1.1/',
      'https://169.254.169.254/latest/meta-data/',
      'https://127.0.0.1/',
      'https://127.8.9.10/',
      'https://0.0.0.0/',
      'https://100.64.0.1/',
      'https://224.0.0.1/',
      'https://2130706433/', // 127.0.0.1 as one number
      'https://0x7f.1/', // 127.0.0.1 in hex, short form
      'https://0177.0.0.1/', // octal
      'https://[::1]/',
      'https://[::]/',
      'https://[fc00::1]/',
      'https://[fd12:3456::1]/',
      'https://[fe80::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:a9fe:a9fe]/', // 169.254.169.254, IPv4-mapped
      'https://[64:ff9b::a00:1]/', // 10.0.0.1 through NAT64
      'https://[2002:c0a8:101::1]/', // 192.168.1.1 through 6to4
    ]) {
      expect(refused(url)).toMatch(/public host|this machine/);
    }
  });

  it('Public neighbours of the private ranges are accepted', () => {
    for (const url of ['https://172.15.255.255/', 'https://172.32.0.1/', 'https://192.169.0.1/', 'https://11.0.0.1/', 'https://[2001:4860::8888]/']) {
      expect(checkWebhookUrl(url, publicOnly).ok, url).toBe(true);
    }
  });

  it('Names that resolve only inside a network are refused', () => {
    for (const url of ['https://localhost/', 'https://localhost./', 'https://api.localhost/', 'https://printer.local/', 'https://metadata.google.internal/', 'https://nas.home.arpa/', 'https://intranet/']) {
      expect(refused(url)).toMatch(/public host|this machine/);
    }
  });

  it('Receivers on this machine are accepted over http or https only where loopback is allowed', () => {
    for (const url of ['http://localhost:8080/hook', 'http://127.0.0.1:49152/hook', 'https://[::1]:8443/hook']) {
      expect(checkWebhookUrl(url, local).ok, url).toBe(true);
      expect(refused(url, publicOnly)).toMatch(/this machine/);
    }
    // Loopback allowed is these three hosts, not the private ranges.
    expect(refused('http://10.0.0.1/hook', local)).toMatch(/https/);
    expect(refused('https://10.0.0.1/hook', local)).toMatch(/public host/);
    expect(refused('http://127.0.0.2/hook', local)).toMatch(/https/);
    expect(refused('http://user:pw@localhost/hook', local)).toMatch(/user name or password/);
  });

  it('IPv6 addresses are read in every textual form', () => {
    expect(ipv6Groups('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('fe80::')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Groups('2001:db8:0:0:1:0:0:1')).toEqual([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]);
    expect(ipv6Groups('::ffff:192.168.0.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0xc0a8, 0x0001]);
    expect(ipv6Groups('1:2:3:4:5:6:7:8:9')).toBeUndefined();
    expect(ipv6Groups('1::2::3')).toBeUndefined();
    expect(ipv6Groups('12345::')).toBeUndefined();
  });
});
