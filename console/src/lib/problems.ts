/**
 * RFC 9457 problem bodies, as the API sends them (functions/handlers/http/problems.ts):
 * `{type, title, status, detail, errors?: [{path, message}]}`, where a path is the zod issue
 * path joined with dots (`closesAt`, `variants.0.sku`, `lateCompensation.maxAmount`), a header's
 * name (`Idempotency-Key`, `Content-Type`) or `(body)`. Pure: unit-tested in Node.
 */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
  /** What is wrong, by a stable name the console says in the anchor's language (`issueText`). */
  readonly code?: string;
  readonly params?: Readonly<Record<string, string | number>>;
}

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors: readonly FieldIssue[];
}

/** An API call that did not succeed: a problem the server sent, or one made up for a network failure (status 0). */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title);
    this.name = 'ApiError';
  }
  get status(): number {
    return this.problem.status;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a problem body defensively: whatever a proxy or gateway sent, the result is a Problem. */
export const toProblem = (status: number, body: unknown, statusText = ''): Problem => {
  const b = isRecord(body) ? body : {};
  const errors = Array.isArray(b.errors)
    ? b.errors.flatMap((e): FieldIssue[] =>
        isRecord(e) && typeof e.path === 'string' && typeof e.message === 'string'
          ? [
              {
                path: e.path,
                message: e.message,
                ...(typeof e.code === 'string' && { code: e.code }),
                ...(isRecord(e.params) && {
                  params: Object.fromEntries(Object.entries(e.params).filter((kv): kv is [string, string | number] => typeof kv[1] === 'string' || typeof kv[1] === 'number')),
                }),
              },
            ]
          : [],
      )
    : [];
  return {
    type: typeof b.type === 'string' ? b.type : 'about:blank',
    title: typeof b.title === 'string' ? b.title : statusText || `HTTP ${status}`,
    status: typeof b.status === 'number' ? b.status : status,
    detail: typeof b.detail === 'string' ? b.detail : '',
    errors,
  };
};

export interface PlacedErrors {
  /** Messages per form field, keyed by the field's API path. */
  readonly byField: Readonly<Record<string, readonly string[]>>;
  /** Messages that belong to no field on the form (a header, the whole body): shown above the form. */
  readonly general: readonly string[];
  /** The first field with an error, in the form's order: where focus goes. */
  readonly first?: string;
}

/**
 * Puts each issue beside the field it names. `fields` are the form's fields by API path, in
 * the order they appear. An issue whose path names no field goes to its closest named parent
 * (`variants.0` → the `variants.0` group when the form has one, else `variants`); failing that,
 * to the general list.
 */
export const placeErrors = (issues: readonly FieldIssue[], fields: readonly string[]): PlacedErrors => {
  const known = new Set(fields);
  const byField: Record<string, string[]> = {};
  const general: string[] = [];
  for (const issue of issues) {
    const parts = issue.path.split('.');
    let target: string | undefined;
    for (let n = parts.length; n > 0 && target === undefined; n--) {
      const candidate = parts.slice(0, n).join('.');
      if (known.has(candidate)) target = candidate;
    }
    if (target === undefined) general.push(issue.path && issue.path !== '(body)' ? `${issue.path}: ${issue.message}` : issue.message);
    else (byField[target] ??= []).push(issue.message);
  }
  const first = fields.find((f) => byField[f] !== undefined);
  return { byField, general, ...(first !== undefined && { first }) };
};

/**
 * The API's words without its internal ids: a detail such as "Campaign cmp_… does not exist"
 * reaches the anchor as "Campaign does not exist". The console never shows cmp_/po_/bat_ ids.
 */
export const withoutIds = (text: string): string =>
  text
    .replace(/\s*\b(?:cmp|po|bat|shp|wh|dlv|ref)_[0-9a-z]{24}\b/g, '')
    .replace(/\s{2,}/g, ' ')
    .trim();

/**
 * An API field error in the anchor's language: the console's own words for its code, with the
 * values it names; the API's English (ids taken out) for a code the console does not know.
 */
export const issueText = (
  issue: FieldIssue,
  texts: Readonly<Record<string, (params: Readonly<Record<string, string | number>>) => string>>,
): string => {
  const say = issue.code !== undefined && Object.hasOwn(texts, issue.code) ? texts[issue.code] : undefined;
  return say ? say(issue.params ?? {}) : withoutIds(issue.message);
};
