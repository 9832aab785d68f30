// The studio's browser tests' harness: a real stillmotion server (started
// here unless STUDIO_URL names one), Debian's chromium driven by
// playwright-core, axe-core for accessibility, and screenshots into
// STUDIO_SCREENSHOTS when it is set.

import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
export const web = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repo = resolve(web, '..');
export const testdata = join(repo, 'cmd', 'stillmotion', 'testdata');
export const shotsDir = process.env.STUDIO_SCREENSHOTS ? resolve(web, process.env.STUDIO_SCREENSHOTS) : '';
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// The text-to-video models routed to a ComfyUI engine that is not running:
// their forms are served, and a submit ends in upstream_unavailable.
export const T2V_ENGINES = `engines:
  t2v:
    kind: comfyui
    url: http://127.0.0.1:9
    workflow: ${join(repo, 'test', 'fakecomfy', 'testdata', 'wan_t2v_api.json')}
    inputs: {prompt: "6.text", negative_prompt: "7.text", seed: "3.seed", frames: "40.length", width: "40.width", height: "40.height"}
    output: "60"
    frames_rule: 4n+1
models:
  pixverse/v5/text-to-video: t2v
  pixverse/v5.5/text-to-video: t2v
`;

export const ENGINES = `models:
  pixverse/v5/image-to-video: builtin
  pixverse/v5.5/image-to-video: builtin
  pixverse/v5/transition: builtin
  pixverse/lip-sync: builtin
`;

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

function run(file, args, opts = {}) {
  return new Promise((ok, fail) => {
    execFile(file, args, { ...opts, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else ok({ stdout, stderr });
    });
  });
}

/**
 * Starts the server the tests talk to, or uses STUDIO_URL (with the key in
 * STUDIO_KEY). The server gets a temp data dir, the built-in models routed
 * by an engines file, 2 workers, no rate limit, private fetches allowed, and
 * a key with 100,000,000 credits.
 */
export async function startServer({ engines: enginesFile = ENGINES, external = true } = {}) {
  if (external && process.env.STUDIO_URL) {
    if (!process.env.STUDIO_KEY) throw new Error('STUDIO_URL needs STUDIO_KEY, a key of that server');
    return { url: process.env.STUDIO_URL.replace(/\/$/, ''), key: process.env.STUDIO_KEY, testKey: process.env.STUDIO_TEST_KEY, poorKey: process.env.STUDIO_POOR_KEY, sideKey: process.env.STUDIO_KEY, stop: async () => {}, log: () => '' };
  }
  const bin = resolve(web, process.env.STILLMOTION_BIN ?? '../bin/stillmotion');
  if (!existsSync(bin)) throw new Error(`${bin} does not exist: build it with go build -o bin/stillmotion ./cmd/stillmotion (or set STILLMOTION_BIN)`);
  const dir = mkdtempSync(join(tmpdir(), 'studio-e2e-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  const engines = join(dir, 'engines.yaml');
  writeFileSync(engines, enginesFile);
  const { stdout } = await run(bin, ['keys', 'create', '--name', 'studio', '--credits', '100000000', '--data-dir', data]);
  const key = stdout.trim().split(/\s+/).pop();
  if (!key) throw new Error(`keys create printed no key: ${stdout}`);
  // A test key: free generations whose prompt may carry a script of faults
  // (a 429 or 503 on submit, with Retry-After).
  const testKey = (await run(bin, ['keys', 'create', '--name', 'studio-test', '--test', '--data-dir', data])).stdout.trim().split(/\s+/).pop();
  // A key that cannot pay for a video.
  const poorKey = (await run(bin, ['keys', 'create', '--name', 'studio-poor', '--credits', '1000', '--data-dir', data])).stdout.trim().split(/\s+/).pop();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // An unlimited key of the environment, for load the tests make on the side.
  const sideKey = `side-${port}`;
  let output = '';
  const child = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data-dir', data, '--engines', engines, '--workers', '2', '--rate-limit', '0', '--log-format', 'text'], {
    env: { ...process.env, STILLMOTION_API_KEYS: sideKey, STILLMOTION_ALLOW_PRIVATE_FETCH: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (b) => (output += b));
  child.stderr.on('data', (b) => (output += b));
  const exited = new Promise((ok) => child.on('exit', ok));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server was not ready in 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    key,
    testKey,
    poorKey,
    sideKey,
    log: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
  });
}

/** A client of the API for what the tests do outside the page. */
export function apiClient(url, key) {
  async function call(method, path, body, headers = {}) {
    const res = await fetch(url + path, {
      method,
      headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  return {
    call,
    poll: (id) => call('GET', `/v2/video/generations?generation_id=${encodeURIComponent(id)}`),
    video: (id) => call('GET', `/v1/videos/${encodeURIComponent(id)}`),
    /** Submits req and waits (Prefer: wait, then polls) until it ends. */
    async generate(req) {
      let g = await call('POST', '/v2/video/generations', req, { Prefer: 'wait=60' });
      return this.wait(g.id, g);
    },
    /** Polls id until a worker has started it (or it has ended). */
    async started(id) {
      const deadline = Date.now() + 60_000;
      for (let g = await this.poll(id); g.status === 'queued'; g = await this.poll(id)) {
        if (Date.now() > deadline) throw new Error(`generation ${id} did not start in 60 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async wait(id, g) {
      const deadline = Date.now() + 120_000;
      while (!g || g.status === 'queued' || g.status === 'generating') {
        if (Date.now() > deadline) throw new Error(`generation ${id} did not end in 120 s`);
        await new Promise((r) => setTimeout(r, 250));
        g = await this.poll(id);
      }
      return g;
    },
  };
}

export function dataURI(file, type) {
  return `data:${type};base64,${readFileSync(file).toString('base64')}`;
}

/**
 * Runs axe-core on the page (or a part of it) and fails on any violation of
 * impact serious or critical, listing them.
 */
export async function checkA11y(page, name, include) {
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  // Evaluated through the DevTools protocol: the page's Content-Security-
  // Policy rightly refuses an inline <script>, as addScriptTag would add.
  if (!loaded) await page.evaluate(`${axeSource};0`);
  const result = await page.evaluate(async (include) => {
    const r = await window.axe.run(include ? { include: [include] } : document, {
      resultTypes: ['violations'],
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`) }));
  }, include ?? null);
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = result.filter((v) => !bad.includes(v));
  if (minor.length && process.env.STUDIO_A11Y_VERBOSE) console.log(`axe (${name}), minor:`, JSON.stringify(minor, null, 1));
  if (bad.length) throw new Error(`axe found ${bad.length} serious or critical violations on ${name}:\n${JSON.stringify(bad, null, 1)}`);
  return result;
}

/** Writes a PNG of the page (or of one element) into STUDIO_SCREENSHOTS. */
export async function shot(page, name, locator) {
  if (!shotsDir) return;
  mkdirSync(shotsDir, { recursive: true });
  const path = join(shotsDir, `${name}.png`);
  // No caret or animation in the pictures, so that they change only when the page does.
  const opts = { path, animations: 'disabled', caret: 'hide', scale: 'css' };
  if (locator) await locator.screenshot(opts);
  else await page.screenshot(opts);
}

export { run };
