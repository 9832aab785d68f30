// npm run check: builds the studio into a temporary directory and compares
// it with internal/studio/dist, the files the Go binary embeds. CI runs it so
// that a change to web/ is never committed without its build.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('..', import.meta.url));
const committed = join(web, '..', 'internal', 'studio', 'dist');
const out = mkdtempSync(join(tmpdir(), 'studio-dist-'));

function files(dir) {
  const list = [];
  (function walk(d) {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else list.push(relative(dir, p));
    }
  })(dir);
  return list.sort();
}

let code = 0;
try {
  const bin = (name) => join(web, 'node_modules', '.bin', name);
  execFileSync(bin('tsc'), ['--noEmit'], { cwd: web, stdio: 'inherit' });
  execFileSync(bin('vite'), ['build', '--logLevel', 'warn'], { cwd: web, stdio: 'inherit', env: { ...process.env, STUDIO_OUT_DIR: out } });
  const want = files(out);
  const have = files(committed);
  const diffs = [];
  for (const f of new Set([...want, ...have])) {
    if (!want.includes(f)) diffs.push(`  ${f}: committed, but the build no longer makes it`);
    else if (!have.includes(f)) diffs.push(`  ${f}: made by the build, not committed`);
    else if (!readFileSync(join(out, f)).equals(readFileSync(join(committed, f)))) diffs.push(`  ${f}: differs`);
  }
  if (diffs.length) {
    console.error(`internal/studio/dist is stale: run npm --prefix web run build\n${diffs.join('\n')}`);
    code = 1;
  } else {
    console.log(`internal/studio/dist is up to date (${want.length} files)`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
process.exit(code);
