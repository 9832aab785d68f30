import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';

// The studio is built into internal/studio/dist, which the Go binary embeds
// and serves at /. The page runs under a strict Content-Security-Policy
// (script-src 'self'; style-src 'self'), so the build emits no inline
// script or style: the module preload polyfill, which Vite would inline, is
// off (every browser the studio supports has modulepreload).
export default defineConfig(({ mode }) => ({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [preact({ devToolsEnabled: false, prefreshEnabled: mode !== 'production' })],
  build: {
    outDir: process.env.STUDIO_OUT_DIR ?? '../internal/studio/dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    sourcemap: false,
    reportCompressedSize: true,
    target: 'es2020',
  },
  server: {
    // `npm run dev` proxies the API to a server on STUDIO_API (default
    // 127.0.0.1:8080), so the page and the API share an origin as in
    // production.
    proxy: Object.fromEntries(
      ['/v1', '/v2', '/files', '/readyz', '/healthz'].map((p) => [
        p,
        { target: process.env.STUDIO_API ?? 'http://127.0.0.1:8080', changeOrigin: false },
      ]),
    ),
  },
}));
