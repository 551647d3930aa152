import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { DomainError, NotFoundError, type FieldIssue } from './errors.ts';

/**
 * Factory webhooks, the pure part: how a delivery is signed and verified, what
 * its body holds, how long to wait before the next try, and which URLs c2m
 * agrees to POST to. No I/O here; the store, the queue and the HTTP call live
 * in adapters and handlers.
 */

// ---------------------------------------------------------------- errors

export class WebhookNotFoundError extends NotFoundError {
  constructor(webhookId: string) {
    super(`Webhook ${webhookId} does not exist`);
  }
}

export class DeliveryNotFoundError extends NotFoundError {
  constructor(deliveryId: string) {
    super(`Delivery ${deliveryId} does not exist`);
  }
}

/** Bounds the dispatcher's work per event; a factory deletes a webhook it no longer needs. */
export class WebhookLimitReachedError extends DomainError {
  readonly kind = 'conflict';
  constructor(readonly limit: number) {
    super(`A factory may have at most ${limit} webhooks`);
  }
}

export const maxWebhooksPerFactory = 25;

// ---------------------------------------------------------------- records

export type WebhookStatus = 'ACTIVE' | 'DISABLED';
/** Why a webhook is DISABLED: the factory said so (PATCH enabled: false), or it failed for `autoDisableAfterMs`. */
export type DisabledReason = 'BY_FACTORY' | 'FAILING';
export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'RETRYING' | 'FAILED';

/** A webhook that has failed every try for this long is disabled by itself, and its factory told. */
export const autoDisableAfterMs = 3 * 86_400_000;
/** After a rotation the old secret keeps signing (a second `v1=`) for this long. */
export const rotationOverlapMs = 24 * 3_600_000;

/**
 * A secret as stored: encrypted under the webhook-secrets key, bound to its
 * webhook and its use (adapters/secret-box.ts). Never the secret itself.
 */
export type SealedSecret = string & { readonly __sealed: true };

export interface Webhook {
  readonly webhookId: string;
  readonly factoryId: string;
  readonly url: string;
  readonly events: readonly string[];
  /** Signs every delivery; shown to the factory once, in the 201 (and in its idempotent replays). */
  readonly secret: SealedSecret;
  /** The secret before the last rotation, still signing until `previousSecretExpiresAt`. */
  readonly previousSecret?: SealedSecret;
  readonly previousSecretExpiresAt?: string;
  /**
   * The 201's secret, sealed for the factory API alone, kept only for a create
   * with an Idempotency-Key, for `revealWindowMs` and until the first rotation.
   */
  readonly revealSecret?: SealedSecret;
  readonly secretRotatedAt?: string;
  readonly status: WebhookStatus;
  readonly disabledReason?: DisabledReason;
  readonly disabledAt?: string;
  /** Since when every try has failed (cleared by a delivered one). */
  readonly failingSince?: string;
  readonly createdAt: string;
  readonly updatedAt?: string;
}

/** How long a create's idempotent replay may show the secret again (the 201 is otherwise the only time). */
export const revealWindowMs = 24 * 3_600_000;

/** The sealed copy a replay of the create may open at `now`, if any. */
export const revealableSecret = (w: Pick<Webhook, 'revealSecret' | 'createdAt'>, now: Date): SealedSecret | undefined =>
  w.revealSecret && now.getTime() < Date.parse(w.createdAt) + revealWindowMs ? w.revealSecret : undefined;

/** Whether a secret is one stored before secrets were sealed (in the clear, `whsec_…`). */
export const isPlainSecret = (secret: string): boolean => secret.startsWith('whsec_');

/** A create replayed after its secret may no longer be shown: the factory rotates for a new one. */
export class SecretNoLongerShownError extends DomainError {
  readonly kind = 'conflict';
  override readonly title = 'Secret no longer shown';
  constructor() {
    super("A webhook's secret is shown again only within 24 hours of its creation and before its first rotation; rotate it (POST .../rotate-secret) for a new one");
  }
}

/** The secrets a delivery is signed with at `now`: the current one, and the previous while it overlaps. */
export const signingSecrets = (w: Webhook, now: Date): SealedSecret[] =>
  w.previousSecret && w.previousSecretExpiresAt && Date.parse(w.previousSecretExpiresAt) > now.getTime() ? [w.secret, w.previousSecret] : [w.secret];

/** Whether a failed try at `now` should disable the webhook: ACTIVE, and failing since at least `autoDisableAfterMs`. */
export const failedLongEnough = (w: Pick<Webhook, 'status' | 'failingSince'>, now: Date): boolean =>
  w.status === 'ACTIVE' && w.failingSince !== undefined && now.getTime() - Date.parse(w.failingSince) >= autoDisableAfterMs;

/** One try at POSTing a delivery: the receiver's status code, or why there was none. */
export interface DeliveryAttempt {
  readonly at: string;
  readonly statusCode?: number;
  readonly error?: string;
  readonly durationMs: number;
}

export interface Delivery {
  readonly deliveryId: string;
  readonly webhookId: string;
  readonly factoryId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly sequence: number;
  readonly status: DeliveryStatus;
  /** The most recent tries, oldest first (at most `maxKeptAttempts`). */
  readonly attempts: readonly DeliveryAttempt[];
  /** Every try ever made, including those no longer kept in `attempts`. */
  readonly attemptCount: number;
  /** Tries in the current series: since the delivery was created, or since its last replay. */
  readonly tries: number;
  /** The exact body POSTed, so every retry and replay sends the same bytes. */
  readonly payload: string;
  readonly nextAttemptAt?: string;
  readonly createdAt: string;
  readonly deliveredAt?: string;
}

/** A delivery item stays under a few KB however often it is replayed. */
export const maxKeptAttempts = 20;

/** Appends an attempt, keeping only the newest `maxKeptAttempts`. */
export const withAttempt = (attempts: readonly DeliveryAttempt[], attempt: DeliveryAttempt): DeliveryAttempt[] =>
  [...attempts, attempt].slice(-maxKeptAttempts);

/** A status the receiver would count as "got it". Redirects are not followed, so a 3xx is a failure. */
export const isDelivered = (statusCode: number | undefined): boolean => statusCode !== undefined && statusCode >= 200 && statusCode < 300;

// ---------------------------------------------------------------- the body

/**
 * What a receiver gets: the event, numbered, with its detail as `data`. Its
 * schema per event type (`data` being that type's event schema) is
 * WebhookPayload in contracts/webhooks.ts, the OpenAPI document's webhooks.
 */
export interface DeliveryPayload {
  /** The event's stable id (`<type>:<fact id>`): the same event delivered twice has the same id. */
  readonly id: string;
  readonly type: string;
  /** Per factory, increasing in the order c2m numbered the deliveries. */
  readonly sequence: number;
  readonly occurredAt: string;
  readonly factoryId: string;
  readonly data: Record<string, unknown>;
}

/** The body of a delivery, serialised once when the delivery is created (key order fixed here). */
export const deliveryPayload = (p: DeliveryPayload): string =>
  JSON.stringify({ id: p.id, type: p.type, sequence: p.sequence, occurredAt: p.occurredAt, factoryId: p.factoryId, data: p.data });

// ---------------------------------------------------------------- signature

/** How far a receiver should accept `t` from its own clock: replays older than this are refused. */
export const defaultToleranceSeconds = 300;

/** `whsec_` + 32 random bytes, base64url. The whole string, prefix included, is the HMAC key. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

const hmacHex = (secret: string, timestamp: number, body: string): string =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');

/**
 * `C2M-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`.
 * The timestamp is inside the MAC, so a captured delivery cannot be replayed
 * later with a fresh `t`. During a rotation's overlap there is one `v1` per
 * secret, the newest first.
 */
export const signatureHeader = (secret: string | readonly string[], body: string, timestampSeconds: number): string =>
  [`t=${timestampSeconds}`, ...(typeof secret === 'string' ? [secret] : secret).map((s) => `v1=${hmacHex(s, timestampSeconds, body)}`)].join(',');

export type SignatureCheck = { readonly valid: true } | { readonly valid: false; readonly reason: 'malformed' | 'outside-tolerance' | 'mismatch' };

/**
 * What a receiver does (docs/webhooks.md has the same in a snippet): parse the
 * header, refuse a `t` further than `toleranceSeconds` from now, and compare
 * every `v1` with the expected MAC in constant time. Several `v1` values are
 * accepted so that a secret rotation can sign with both secrets for a while.
 */
export const verifySignature = (
  secret: string,
  body: string,
  header: string | undefined,
  opts: { nowSeconds: number; toleranceSeconds?: number },
): SignatureCheck => {
  if (!header) return { valid: false, reason: 'malformed' };
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return { valid: false, reason: 'malformed' };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (!/^\d{1,12}$/.test(value) || timestamp !== undefined) return { valid: false, reason: 'malformed' };
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/.test(value)) return { valid: false, reason: 'malformed' };
      candidates.push(value);
    }
    // Other keys (a future v2) are ignored, so receivers keep working while c2m adds schemes.
  }
  if (timestamp === undefined || candidates.length === 0) return { valid: false, reason: 'malformed' };
  if (Math.abs(opts.nowSeconds - timestamp) > (opts.toleranceSeconds ?? defaultToleranceSeconds)) {
    return { valid: false, reason: 'outside-tolerance' };
  }
  const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
  // Every candidate is compared, so the time taken does not say which one matched.
  let matched = false;
  for (const candidate of candidates) matched = timingSafeEqual(Buffer.from(candidate, 'hex'), expected) || matched;
  return matched ? { valid: true } : { valid: false, reason: 'mismatch' };
};

// ---------------------------------------------------------------- retries

export interface RetrySchedule {
  readonly baseSeconds: number;
  readonly maxSeconds: number;
}

/**
 * Seconds to wait after try `n` (1-based) failed: the cap is
 * min(max, base × 2^(n-1)), and the wait is drawn with **equal jitter**, from
 * cap/2 to cap. Equal rather than full jitter because the receiver is usually
 * down, not contended: full jitter could retry a few seconds after a failure,
 * which teaches the receiver nothing; half the cap is a floor that still
 * spreads a burst of deliveries over time. Rounded up to whole seconds, the
 * granularity of SQS's ChangeMessageVisibility; at least 1.
 */
export const retryDelaySeconds = (n: number, schedule: RetrySchedule, random: () => number = Math.random): number => {
  const cap = Math.min(schedule.maxSeconds, schedule.baseSeconds * 2 ** Math.max(0, n - 1));
  return Math.max(1, Math.ceil(cap / 2 + (random() * cap) / 2));
};

// ---------------------------------------------------------------- URL policy

export type UrlVerdict = { readonly ok: true; readonly url: string } | { readonly ok: false; readonly issue: FieldIssue };

const refuse = (message: string): UrlVerdict => ({ ok: false, issue: { path: 'url', message } });

/** Receivers on this machine, accepted only where the operator allows it (the local runtime). */
const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Names that only resolve inside a network: RFC 6761 `localhost`, mDNS `.local`, ICANN's private-use `.internal`, RFC 8375 `home.arpa`. */
const internalSuffixes = ['.localhost', '.local', '.internal', '.home.arpa'];

const ipv4Of = (host: string): number[] | undefined => {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets : undefined;
};

/** Not reachable on the public internet: private, loopback, link-local, shared, reserved, multicast. */
const isPrivateIpv4 = ([a = 0, b = 0, c = 0]: readonly number[]): boolean =>
  a === 0 || // "this network", 0.0.0.0
  a === 10 ||
  a === 127 ||
  (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
  (a === 169 && b === 254) || // link-local, cloud metadata
  (a === 172 && b >= 16 && b <= 31) ||
  (a === 192 && b === 168) ||
  (a === 192 && b === 0 && c === 0) || // IETF protocol assignments
  (a === 198 && (b === 18 || b === 19)) || // benchmarking
  a >= 224; // multicast, reserved, broadcast

/** The eight 16-bit groups of an IPv6 address (dotted IPv4 tail allowed), or undefined. */
export const ipv6Groups = (text: string): number[] | undefined => {
  let s = text.toLowerCase();
  const tail = /(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(s);
  if (tail?.[1]) {
    const v4 = ipv4Of(tail[1]);
    if (!v4) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = v4;
    s = `${s.slice(0, -tail[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const split = (p: string) => (p === '' ? [] : p.split(':'));
  const head = split(halves[0] ?? '');
  const rest = halves.length === 2 ? split(halves[1] ?? '') : [];
  const fill = 8 - head.length - rest.length;
  if (halves.length === 1 ? head.length !== 8 : fill < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...rest];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
};

const isPrivateIpv6 = (g: readonly number[]): boolean => {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const embedded = [g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff];
  // ::/96 (unspecified, loopback, IPv4-compatible) and ::ffff:0:0/96 (IPv4-mapped): judge the IPv4 inside.
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && (g5 === 0 || g5 === 0xffff)) return isPrivateIpv4(embedded);
  // 64:ff9b::/96, NAT64: the IPv4 inside is what is reached.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return isPrivateIpv4(embedded);
  // 2002::/16, 6to4: the IPv4 is in groups 1 and 2.
  if (g0 === 0x2002) return isPrivateIpv4([g1 >> 8, g1 & 0xff, g2 >> 8, g2 & 0xff]);
  return (
    (g0 & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (g0 & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (g0 & 0xffc0) === 0xfec0 || // site-local (deprecated) fec0::/10
    (g0 & 0xff00) === 0xff00 // multicast
  );
};

/**
 * Whether c2m will POST to `raw`: https to a public host; http or https to
 * localhost, 127.0.0.1 or [::1] only when `allowLoopback` (the local runtime).
 * IP literals in private, loopback, link-local and other non-public ranges are
 * refused however they are spelled (the WHATWG parser turns `0x7f.1` and
 * `2130706433` into 127.0.0.1 first), as are URLs with credentials and names
 * that only resolve inside a network. DNS names are not resolved here: a
 * public-looking name that resolves to a private address is not caught (see
 * docs/webhooks.md). The accepted URL comes back normalised.
 */
export const checkWebhookUrl = (raw: string, opts: { allowLoopback: boolean }): UrlVerdict => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('url is not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return refuse('url must use https');
  if (url.username !== '' || url.password !== '') return refuse('url must not contain a user name or password');
  const host = url.hostname.replace(/\.+$/, '');
  if (host === '') return refuse('url must name a host');

  if (loopbackHosts.has(host)) {
    return opts.allowLoopback ? { ok: true, url: url.href } : refuse(`url must name a public host; ${host} is this machine`);
  }
  if (url.protocol !== 'https:') return refuse('url must use https');

  const v4 = ipv4Of(host);
  if (v4) return isPrivateIpv4(v4) ? refuse(`url must name a public host; ${host} is a private, loopback or reserved address`) : { ok: true, url: url.href };
  if (host.startsWith('[')) {
    const v6 = ipv6Groups(host.slice(1, -1));
    if (!v6) return refuse('url has an invalid IPv6 address');
    return isPrivateIpv6(v6) ? refuse(`url must name a public host; ${host} is a private, loopback or link-local address`) : { ok: true, url: url.href };
  }
  if (host === 'localhost' || internalSuffixes.some((s) => host.endsWith(s))) {
    return refuse(`url must name a public host; ${host} only resolves inside a network`);
  }
  if (!host.includes('.')) return refuse(`url must name a public host; ${host} is not a fully qualified domain name`);
  return { ok: true, url: url.href };
};
