// Types only: @hono/zod-openapi's declarations give zod's schemas their `.openapi()` method.
import type {} from '@hono/zod-openapi';
import { ZodType } from 'zod';

/**
 * zod as the contracts use it: `import * as z from '#contracts/zod.ts'`.
 *
 * Why not `import { z } from '@hono/zod-openapi'` (or `{ z }` from 'zod'): a
 * namespace object handed around whole keeps every export of zod in a Lambda
 * bundle, its 64 locales included (≈ 440 KB of a 600–800 KB bundle);
 * `import * as z` of a module that re-exports zod lets esbuild keep only the
 * schema kinds the function uses (≈ 90 KB). And @hono/zod-openapi, imported
 * for its values, patches zod with zod-to-openapi's registry and brings its
 * generator along: a function validates with the schemas but never writes the
 * OpenAPI document, which is built once by `npm run client:generate`
 * (functions/contracts/openapi-document.ts) and served as a file (decision 32).
 *
 * So in a function `.openapi(…)` is a no-op that returns the schema itself: the
 * metadata it carries (names, descriptions, examples) is for the document only
 * and changes nothing a schema accepts. The document builder imports
 * @hono/zod-openapi before any contract, which installs the real method first;
 * this one is installed only where it is missing, and says it is a stand-in
 * (`metadataDropped`) so the builder can refuse to write a document without
 * metadata.
 */
const openapiStandIn = Object.assign(
  function (this: ZodType) {
    return this;
  },
  { metadataDropped: true as const },
);

// Enumerable, as zod-to-openapi sets its own: zod copies its prototypes' enumerable keys onto each schema it builds.
if (!('openapi' in ZodType.prototype)) {
  Object.defineProperty(ZodType.prototype, 'openapi', { value: openapiStandIn, writable: true, configurable: true, enumerable: true });
}

/** True when the contracts were built with the stand-in, so their OpenAPI metadata is gone. */
export const openapiMetadataDropped = (): boolean =>
  (ZodType.prototype as unknown as { openapi?: { metadataDropped?: boolean } }).openapi?.metadataDropped === true;

export * from 'zod';
