import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The anchor console: its own app, served under /console/ by the local runtime and
 * by CloudFront. `npm run console:build` writes console/dist (gitignored).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // A phone on mobile data: one small script, one stylesheet, nothing inlined that is large.
    assetsInlineLimit: 2048,
    reportCompressedSize: true,
  },
});
