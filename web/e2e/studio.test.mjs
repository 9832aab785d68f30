// The studio in a real browser against the real binary: sign in, make a
// video from an uploaded image, field errors from the client and from the
// server, cancel, history after a reload with paging, a lip-sync of an
// uploaded video, copy as curl run in bash, keyboard use, and axe-core on
// every screen. With STUDIO_SCREENSHOTS set, each step is also written as a
// PNG there (npm run screenshots: docs/studio/).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { apiClient, checkA11y, dataURI, launch, repo, run, shot, startServer, T2V_ENGINES, testdata } from './harness.mjs';

const ROCKET = join(testdata, 'rocket.jpg');
const ASTRONAUT = join(testdata, 'astronaut.png');
const I2V = 'pixverse/v5/image-to-video';
const V55 = 'pixverse/v5.5/image-to-video';
const LIPSYNC = 'pixverse/lip-sync';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let server, api, browser, context, page, tmp;
/** The bodies the page POSTed to /v2/video/generations, in order. */
const posted = [];
const pageErrors = [];
const cspViolations = [];

async function waitStatus(re, timeout = 90_000) {
  await page.waitForFunction((src) => new RegExp(src).test(document.querySelector('#run-status')?.textContent ?? ''), re.source, { timeout });
}

/** Waits until the result's video has data to show, and returns its readyState and duration. */
async function videoState() {
  await page.locator('.player video').waitFor({ timeout: 90_000 });
  await page.waitForFunction(() => {
    const v = document.querySelector('.player video');
    return v && v.readyState >= 2 && Number.isFinite(v.duration);
  }, null, { timeout: 30_000 });
  return page.evaluate(() => {
    const v = document.querySelector('.player video');
    return { readyState: v.readyState, duration: v.duration, width: v.videoWidth, height: v.videoHeight, error: v.error?.message ?? null };
  });
}

async function chooseModel(id) {
  await page.selectOption('#model', id);
  await page.waitForFunction((id) => document.querySelector('#model')?.value === id, id);
}

async function radio(name) {
  await page.getByRole('radio', { name, exact: true }).check();
}

/** Records every text the live status shows, so that short-lived states are seen. */
async function recordStatuses() {
  await page.evaluate(() => {
    window.__statuses = [];
    const seen = () => {
      const t = document.querySelector('#run-status')?.textContent;
      if (t && window.__statuses.at(-1) !== t) window.__statuses.push(t);
    };
    new MutationObserver(seen).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

describe('studio', { concurrency: false }, () => {
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'studio-test-'));
    server = await startServer();
    api = apiClient(server.url, server.key);
    browser = await launch();
    context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    page = await context.newPage();
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/v2/video/generations') posted.push(r.postData());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) cspViolations.push(m.text());
    });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('signs in with a key and shows its balance', async () => {
    await page.goto(server.url + '/');
    await page.locator('#api-key').waitFor();
    await checkA11y(page, 'sign-in');
    await shot(page, '01-sign-in');
    // A wrong key is refused with the server's words.
    await page.fill('#api-key', 'not-a-key');
    await page.click('button[type=submit]');
    await page.locator('#api-key-error').waitFor();
    assert.equal(await page.getAttribute('#api-key', 'aria-invalid'), 'true');
    assert.match(await page.textContent('#api-key-error'), /key/i);
    await page.fill('#api-key', server.key);
    await page.click('button[type=submit]');
    await page.locator('#model').waitFor();
    await page.waitForFunction(() => /100,000,000 credits/.test(document.querySelector('.balance')?.textContent ?? ''));
    assert.equal(await page.evaluate(() => localStorage.getItem('stillmotion.studio.key')), server.key);
  });

  it('makes a video from an uploaded image, with live progress, the plan and a playing video', { timeout: 180_000 }, async () => {
    await chooseModel(I2V);
    await page.setInputFiles('#f-image_url', ROCKET);
    await page.locator('.preview img').waitFor();
    // The preview names the image's size and the frame it becomes.
    await page.waitForFunction(() => /640×427.*1080×720 at 720p/.test(document.querySelector('.preview figcaption')?.textContent ?? ''));
    await page.fill('#f-prompt', 'slow push in, golden hour');
    await radio('360p');
    await page.waitForFunction(() => /540×360 at 360p/.test(document.querySelector('.preview figcaption')?.textContent ?? ''));
    await page.fill('#f-seed', '7');
    assert.match(await page.textContent('#price-total'), /315,000 credits \(\$0\.1575\)/);
    // The speech's bytes and price, counted as it is typed.
    await page.fill('#f-lip_sync_tts_content', 'Liftoff at dawn — ready?');
    assert.match(await page.textContent('#c-lip_sync_tts_content'), /26 bytes \(UTF-8\) → 2 chunks of 15 bytes = 168,000 credits/);
    assert.match(await page.textContent('#price-total'), /483,000 credits/);
    await page.fill('#f-lip_sync_tts_content', '');
    await checkA11y(page, 'form with an image');
    await shot(page, '02-form-image-price', page.locator('.model-form'));

    // Both workers busy with 1080p renders of another key: this one waits in the queue first.
    const side = apiClient(server.url, server.sideKey);
    const busy = [];
    for (let i = 0; i < 2; i++) busy.push(await side.call('POST', '/v2/video/generations', { model: I2V, prompt: 'slow pan left', image_url: dataURI(ROCKET, 'image/jpeg'), resolution: '1080p' }));
    // Both must hold a worker before this key's submit, whose job would
    // otherwise go first (a key with less in flight is served first).
    await Promise.all(busy.map((g) => side.started(g.id)));
    await recordStatuses();
    const before = posted.length;
    await page.click('.actions button[type=submit]');
    await page.locator('.run').waitFor();
    await waitStatus(/Completed/);
    assert.equal(posted.length, before + 1);
    const statuses = await page.evaluate(() => window.__statuses);
    assert.ok(statuses.some((s) => /^Queued: position \d+ in the queue$/.test(s)), `queue position seen: ${statuses.join(' | ')}`);
    assert.ok(statuses.some((s) => /^Generating: \d+%$/.test(s)), `progress seen: ${statuses.join(' | ')}`);
    await Promise.all(busy.map((g) => side.wait(g.id)));

    const v = await videoState();
    assert.ok(v.readyState >= 2, `readyState ${v.readyState}`);
    assert.ok(Math.abs(v.duration - 5) < 0.25, `duration ${v.duration}`);
    assert.equal(v.width, 540);
    assert.equal(v.height, 360);
    const plan = await page.locator('.plan-list li').allTextContents();
    assert.ok(plan.some((c) => /zoom in/.test(c)), `plan: ${plan.join('; ')}`);
    // It plays.
    await page.evaluate(() => document.querySelector('.player video').play());
    await page.waitForFunction(() => document.querySelector('.player video').currentTime > 0.2, null, { timeout: 20_000 });
    await page.evaluate(() => document.querySelector('.player video').pause());
    const href = await page.getAttribute('.player a[download]', 'href');
    assert.match(href, /\/files\/.+\/output\.mp4\?/);
    await page.waitForFunction(() => /99,685,000 credits/.test(document.querySelector('.balance')?.textContent ?? ''));
    await page.evaluate(() => {
      document.querySelector('.player video').currentTime = 2.5;
    });
    await page.waitForFunction(() => document.querySelector('.player video').readyState >= 2);
    await checkA11y(page, 'result');
    await page.locator('.run').scrollIntoViewIfNeeded();
    await shot(page, '04-result-plan-player');
  });

  it('shows a field error from the client and one from the server on the field', async () => {
    // Over the limit: refused before anything is sent.
    const before = posted.length;
    await page.fill('#f-prompt', 'a'.repeat(2100));
    await page.click('.actions button[type=submit]');
    await page.locator('#e-prompt').waitFor();
    assert.equal(await page.getAttribute('#f-prompt', 'aria-invalid'), 'true');
    assert.match(await page.textContent('#e-prompt'), /Too long: 2,100 characters, at most 2,048/);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-prompt');
    assert.equal(posted.length, before);

    // A URL only the server can judge: its words, on the image field.
    await page.fill('#f-prompt', 'slow push in');
    await page.click('.preview button');
    await page.fill('#f-image_url-url', 'ftp://example.com/a.png');
    await page.click('.actions button[type=submit]');
    await page.locator('#e-image_url').waitFor();
    assert.equal(posted.length, before + 1);
    assert.equal(await page.getAttribute('#f-image_url-url', 'aria-invalid'), 'true');
    assert.equal(await page.getAttribute('#f-image_url', 'aria-invalid'), 'true');
    assert.match(await page.getAttribute('#f-image_url-url', 'aria-describedby'), /\be-image_url\b/);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-image_url-url');
    assert.match(await page.textContent('#e-image_url'), /image_url has the scheme "ftp"; it must be an http\(s\) URL/);
    assert.match(await page.textContent('.banner'), /Body validation error!/);
    await checkA11y(page, 'field error');
    await page.locator('#e-image_url').scrollIntoViewIfNeeded();
    await shot(page, '08-error-on-field');
    // Fixing the field clears its error.
    await page.fill('#f-image_url-url', '');
    assert.equal(await page.locator('#e-image_url').count(), 0);
  });

  it('cancels a running generation', { timeout: 120_000 }, async () => {
    await page.setInputFiles('#f-image_url', ROCKET);
    await page.locator('.preview img').waitFor();
    await page.fill('#f-prompt', 'slow pan left across the launch pad, rain');
    await radio('1080p');
    // 8 s is not offered at 1080p.
    assert.equal(await page.getByRole('radio', { name: '8 s' }).isDisabled(), true);
    assert.match(await page.textContent('#h-duration'), /At 1080p: 5 s only/);
    await recordStatuses();
    await page.click('.actions button[type=submit]');
    await waitStatus(/Queued|Generating/);
    const id = await page.textContent('.run-id code');
    await page.waitForFunction(() => /Generating: [1-9]/.test(document.querySelector('#run-status')?.textContent ?? ''), null, { timeout: 30_000 }).catch(() => {});
    await checkA11y(page, 'progress');
    await page.locator('.run').scrollIntoViewIfNeeded();
    await shot(page, '03-progress');
    await page.click('text=Cancel generation');
    await waitStatus(/Cancelled/, 30_000);
    const g = await api.poll(id);
    assert.equal(g.status, 'error');
    assert.equal(g.error.name, 'cancelled');
    assert.match(await page.textContent('.run'), /Not charged/);
    await radio('360p');
  });

  it('lists the history after a reload, with thumbnails, paging, again and delete', { timeout: 240_000 }, async () => {
    // Enough generations for two pages of 5: four more, made with the API.
    const made = [];
    for (let i = 0; i < 4; i++) {
      const g = await api.generate({ model: I2V, prompt: `static shot ${i}`, image_url: dataURI(ROCKET, 'image/jpeg'), resolution: '360p', seed: i });
      assert.equal(g.status, 'completed');
      made.push(g.id);
    }
    await page.reload();
    await page.locator('#model').waitFor(); // the key was remembered
    assert.equal(await page.locator('#api-key').count(), 0);
    await page.click('nav a[href="#/history"]');
    await page.locator('#page-size').waitFor();
    await page.selectOption('#page-size', '5');
    await page.waitForFunction(() => document.querySelectorAll('.history-item').length === 5);
    const first = await page.locator('.history-item').evaluateAll((els) => els.map((e) => e.dataset.id));
    assert.deepEqual(first.slice(0, 4), made.slice().reverse());
    // Every completed one has a thumbnail that loaded.
    await page.waitForFunction(() => {
      const done = [...document.querySelectorAll('.history-item[data-status=completed]')];
      return done.length > 0 && done.every((li) => li.querySelector('img')?.complete && li.querySelector('img').naturalWidth > 0);
    }, null, { timeout: 30_000 });
    assert.match(await page.locator('.history-item').first().textContent(), /made outside this browser/);
    await checkA11y(page, 'history');
    await shot(page, '06-history');

    await page.click('text=Next');
    await page.waitForFunction(() => /Page 2/.test(document.querySelector('.pager')?.textContent ?? ''));
    await page.waitForFunction((first) => {
      const ids = [...document.querySelectorAll('.history-item')].map((e) => e.dataset.id);
      return ids.length > 0 && ids.every((id) => !first.includes(id));
    }, first);
    const second = await page.locator('.history-item').evaluateAll((els) => els.map((e) => e.dataset.id));
    assert.ok(second.length >= 1);
    // The first generation made in the studio is on page 2, with its settings kept in this browser.
    const studioItem = page.locator('.history-item', { hasText: 'slow push in, golden hour' });
    assert.equal(await studioItem.count(), 1);
    assert.match(await studioItem.textContent(), /pixverse\/v5\/image-to-video/);
    await page.click('text=Previous');
    await page.waitForFunction((first) => [...document.querySelectorAll('.history-item')].map((e) => e.dataset.id).join() === first.join(), first);

    // Again: the studio's first generation back in the form.
    await page.click('text=Next');
    await page.waitForFunction(() => /Page 2/.test(document.querySelector('.pager')?.textContent ?? ''));
    const againId = await studioItem.getAttribute('data-id');
    await page.click(`[aria-label="Again: load the settings of ${againId} into the form"]`);
    await page.locator('#model').waitFor();
    assert.equal(await page.inputValue('#model'), I2V);
    assert.equal(await page.inputValue('#f-prompt'), 'slow push in, golden hour');
    assert.equal(await page.inputValue('#f-seed'), '7');
    assert.equal(await page.getByRole('radio', { name: '360p' }).isChecked(), true);
    await page.locator('.preview img').waitFor();
    assert.match(await page.textContent('.notice'), /Loaded the settings/);

    // Again on one made elsewhere: what the API keeps of it, said so.
    await page.click('nav a[href="#/history"]');
    await page.click(`[aria-label="Again: load the settings of ${made[1]} into the form"]`);
    await page.waitForFunction(() => /made outside this browser/.test(document.querySelector('.notice')?.textContent ?? ''));
    assert.equal(await page.inputValue('#f-prompt'), 'static shot 1');
    assert.equal(await page.getByRole('radio', { name: '360p' }).isChecked(), true);
    assert.equal(await page.locator('.preview img').count(), 0);

    // Open shows one in the result panel, with its player.
    await page.click('nav a[href="#/history"]');
    await page.click(`[aria-label="Open ${made[3]}"]`);
    await page.waitForFunction((id) => document.querySelector('.run-id code')?.textContent === id, made[3]);
    assert.match(await page.textContent('#run-status'), /Completed/);
    assert.ok((await videoState()).readyState >= 2);

    // Delete one made with the API.
    const gone = made[0];
    await page.click('nav a[href="#/history"]');
    await page.waitForFunction((id) => !!document.querySelector(`.history-item[data-id="${id}"]`), gone);
    await page.click(`[aria-label="Delete ${gone}"]`);
    await page.click(`[aria-label="Yes, delete ${gone} and its video"]`);
    await page.waitForFunction((id) => !document.querySelector(`.history-item[data-id="${id}"]`), gone);
    await assert.rejects(api.poll(gone), /404/);
  });

  it('re-voices an uploaded video with lip-sync', { timeout: 240_000 }, async () => {
    // A talking clip, made with the API and downloaded.
    const talk = await api.generate({
      model: I2V,
      prompt: 'An astronaut smiles at the camera, static',
      image_url: dataURI(ASTRONAUT, 'image/png'),
      resolution: '360p',
      lip_sync_tts_content: 'Hello there, this is a test.',
      lip_sync_tts_speaker: 'Jack',
    });
    assert.equal(talk.status, 'completed');
    const mp4 = join(tmp, 'talk.mp4');
    const res = await fetch(talk.video.url);
    assert.equal(res.status, 200);
    writeFileSync(mp4, Buffer.from(await res.arrayBuffer()));

    await page.click('nav a[href="#/"]');
    await chooseModel(LIPSYNC);
    // Fields of the model's own: a video, an audio or speech text (one of them), no prompt or resolution.
    assert.equal(await page.locator('#f-prompt').count(), 0);
    assert.equal(await page.locator('#f-resolution').count(), 0);
    assert.match(await page.textContent('#n-audio_url'), /Exactly one of audio \(speech\) or speech text is needed/);
    await checkA11y(page, 'lip-sync form');
    // Neither audio nor text: the one-of rule, said before sending.
    const before = posted.length;
    await page.setInputFiles('#f-video_url', mp4);
    await page.locator('.preview video').waitFor();
    await page.click('.actions button[type=submit]');
    await page.locator('#e-audio_url').waitFor();
    assert.match(await page.textContent('#e-audio_url'), /Required: give audio \(speech\) or speech text/);
    assert.equal(posted.length, before);

    await page.fill('#f-lip_sync_tts_content', 'Good evening. Rain by noon.');
    // Given one of the two, the error and its banner go.
    assert.equal(await page.locator('#e-audio_url').count(), 0);
    assert.equal(await page.locator('.banner').count(), 0);
    await page.check('#voice-Sophia');
    // A voice's preview plays.
    await page.click('[aria-label="Play a preview of Sophia"]');
    await page.waitForFunction(() => document.querySelector('[aria-label="Stop a preview of Sophia"]')?.getAttribute('aria-pressed') === 'true', null, { timeout: 15_000 });
    await page.click('[aria-label="Stop a preview of Sophia"]');
    // 420,000 a video + 2 chunks of speech (27 bytes).
    assert.match(await page.textContent('#price-total'), /588,000 credits/);
    await page.waitForFunction(() => /\d+×\d+, 5\.\d s/.test(document.querySelector('.preview figcaption')?.textContent ?? ''));
    await shot(page, '07-lip-sync-form', page.locator('.model-form'));

    await page.click('.actions button[type=submit]');
    await waitStatus(/Completed/, 180_000);
    const body = JSON.parse(posted.at(-1));
    assert.equal(body.model, LIPSYNC);
    assert.match(body.video_url, /^data:video\/mp4;base64,/);
    assert.equal(body.lip_sync_tts_content, 'Good evening. Rain by noon.');
    assert.equal(body.lip_sync_tts_speaker, 'Sophia');
    assert.equal(body.prompt, undefined);
    const v = await videoState();
    assert.ok(v.readyState >= 2, `readyState ${v.readyState}`);
    assert.ok(v.duration > 4, `duration ${v.duration}`);
    await page.evaluate(() => document.querySelector('.player video').play());
    await page.waitForFunction(() => document.querySelector('.player video').currentTime > 0.2, null, { timeout: 20_000 });
    await page.evaluate(() => document.querySelector('.player video').pause());
  });

  it('copies the request as curl, which runs in bash and makes the same generation', { timeout: 240_000 }, async () => {
    await chooseModel(I2V);
    await page.setInputFiles('#f-image_url', ROCKET);
    await page.locator('.preview img').waitFor();
    await page.fill('#f-prompt', "pan left over the pad, it's \"dusk\" — $HOME `x`");
    await radio('360p');
    await page.fill('#f-seed', '1234');
    await page.selectOption('#f-style', 'clay');
    await page.click('.actions button[type=submit]');
    await waitStatus(/Completed/);
    const studioId = await page.textContent('.run-id code');
    const sent = JSON.parse(posted.at(-1));

    await page.getByRole('tab', { name: 'curl' }).click();
    await page.click('text=Copy as curl');
    await page.waitForFunction(() => /Copied the curl code/.test(document.querySelector('.copied')?.textContent ?? ''));
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    // The snippet shown shortens the data: URI; the copied one is whole.
    assert.match(await page.textContent('.snippet'), /more characters in the copied text/);
    assert.ok(curl.includes(sent.image_url));
    const json = curl.slice(curl.indexOf("<<'JSON'\n") + 9, curl.indexOf('\nJSON\n'));
    assert.deepEqual(JSON.parse(json), sent);
    await page.locator('.code').scrollIntoViewIfNeeded();
    await shot(page, '05-code-snippet', page.locator('.code'));

    // Run as a script file: as one argument (bash -c) it would pass Linux's 128 KiB limit of an argument.
    const script = join(tmp, 'copied.sh');
    writeFileSync(script, curl);
    const { stdout } = await run('bash', [script], { env: { ...process.env, STILLMOTION_API_KEY: server.key } });
    const created = JSON.parse(stdout);
    assert.equal(created.status, 'queued');
    assert.notEqual(created.id, studioId);
    const fromCurl = await api.wait(created.id);
    const fromStudio = await api.poll(studioId);
    assert.equal(fromCurl.status, 'completed');
    // The same settings: model, prompt, length and size (the OpenAI-shaped
    // object carries them), the same plan, and, with the same seed, the same bytes.
    const [a, b] = await Promise.all([api.video(studioId), api.video(created.id)]);
    for (const k of ['model', 'prompt', 'seconds', 'size']) assert.equal(b[k], a[k], k);
    assert.equal(a.prompt, sent.prompt);
    assert.equal(fromCurl.plan, fromStudio.plan);
    const bytes = async (u) => createHash('sha256').update(Buffer.from(await (await fetch(u)).arrayBuffer())).digest('hex');
    assert.equal(await bytes(fromCurl.video.url), await bytes(fromStudio.video.url));

    // The Python and Go snippets are whole programs: they compile.
    for (const lang of ['Python', 'Go']) {
      await page.getByRole('tab', { name: lang }).click();
      await page.click(`text=Copy as ${lang}`);
      await page.waitForFunction((lang) => document.querySelector('.copied')?.textContent === `Copied the ${lang} code.`, lang);
      const code = await page.evaluate(() => navigator.clipboard.readText());
      assert.ok(code.includes(sent.image_url), lang);
      if (lang === 'Python' && existsSync('/usr/bin/python3')) {
        const f = join(tmp, 'generate.py');
        writeFileSync(f, code);
        await run('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', f]);
        assert.match(code, /"seed": 1234,/);
      }
      if (lang === 'Go') {
        const go = ['/usr/local/go/bin/go', '/usr/bin/go'].find((p) => existsSync(p));
        assert.match(code, /Seed:\s+&seed,/);
        if (go) {
          const dir = join(tmp, 'gosnippet');
          await run('mkdir', ['-p', dir]);
          writeFileSync(join(dir, 'go.mod'), `module snippet\n\n${readFileSync(join(repo, 'go.mod'), 'utf8').match(/^go .+$/m)[0]}\n\nrequire stillmotion v0.0.0\n\nreplace stillmotion => ${repo}\n`);
          writeFileSync(join(dir, 'main.go'), code);
          const env = { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'auto' };
          const { stdout: fmt } = await run(go, ['fmt', './...'], { cwd: dir, env });
          await run(go, ['vet', '.'], { cwd: dir, env });
          assert.equal(fmt.trim(), '', 'the Go snippet is gofmt-formatted');
        }
      }
    }
    await page.getByRole('tab', { name: 'curl' }).click();
  });

  it('takes a pasted and a dropped image on the transition form', async () => {
    await chooseModel('pixverse/v5/transition');
    for (const name of ['image_url', 'tail_image_url']) {
      if (await page.locator(`[data-media-field=${name}] .preview button`).count()) await page.click(`[data-media-field=${name}] .preview button`);
    }
    const files = { rocket: readFileSync(ROCKET).toString('base64'), astronaut: readFileSync(ASTRONAUT).toString('base64') };
    await page.evaluate(({ rocket, astronaut }) => {
      const file = (b64, name, type) => new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type });
      // Pasted with nothing focused: it fills the first empty image field.
      const paste = new DataTransfer();
      paste.items.add(file(rocket, 'pasted.jpg', 'image/jpeg'));
      document.activeElement?.blur();
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: paste, bubbles: true }));
      // Dropped on the last frame's zone.
      const drop = new DataTransfer();
      drop.items.add(file(astronaut, 'dropped.png', 'image/png'));
      document.querySelector('[data-media-field=tail_image_url] .drop').dispatchEvent(new DragEvent('drop', { dataTransfer: drop, bubbles: true, cancelable: true }));
    }, files);
    await page.waitForFunction(() => /pasted\.jpg/.test(document.querySelector('[data-media-field=image_url] figcaption')?.textContent ?? ''));
    await page.waitForFunction(() => /dropped\.png \(512×512/.test(document.querySelector('[data-media-field=tail_image_url] figcaption')?.textContent ?? ''));
    await page.fill('#f-prompt', 'slow push in');
    await page.fill('#f-lip_sync_tts_content', '');
    await radio('540p');
    // The frame follows the first image; the price is v5's at 540p.
    assert.match(await page.textContent('[data-media-field=image_url] figcaption'), /video 810×540 at 540p/);
    assert.match(await page.textContent('#price-total'), /315,000 credits/);
    await checkA11y(page, 'transition form with two images');
    await radio('360p');
  });

  it('is usable with the keyboard alone', async () => {
    await chooseModel(I2V);
    await page.focus('#model');
    const reached = new Set();
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press('Tab');
      const id = await page.evaluate(() => {
        const el = document.activeElement;
        return el?.id || el?.getAttribute('aria-label') || el?.textContent?.trim().slice(0, 40) || el?.tagName;
      });
      reached.add(id);
      if (id === 'Generate') break;
    }
    for (const want of ['f-prompt', 'f-image_url', 'f-image_url-url', 'f-negative_prompt', 'f-style', 'f-seed', 'Random seed', 'f-lip_sync_tts_content', 'Generate'])
      assert.ok(reached.has(want), `${want} reached by Tab: ${[...reached].join(', ')}`);
    assert.ok([...reached].some((id) => /^f-resolution-\d$/.test(id)), 'a resolution reached');
    // Arrow keys move between the radios of a group; Space presses the dice.
    await page.focus('#f-seed');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    assert.match(await page.inputValue('#f-seed'), /^\d+$/);
    await page.getByRole('radio', { name: '540p' }).focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByRole('radio', { name: '720p' }).isChecked(), true);
    // The focused control is visibly outlined.
    const outline = await page.evaluate(() => {
      const el = document.activeElement;
      const s = getComputedStyle(el.nextElementSibling ?? el);
      return s.outlineStyle + ' ' + s.outlineWidth;
    });
    assert.match(outline, /solid 3px/);
    // The drop zone is a real file input, reached and focused like any control.
    await page.focus('#f-image_url');
    assert.equal(await page.evaluate(() => document.activeElement.type), 'file');
    await radio('360p');
  });

  it('passes axe on every model form and at phone width, with no horizontal scroll', { timeout: 120_000 }, async () => {
    const models = await page.locator('#model option').evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(models, [I2V, V55, 'pixverse/v5/transition', LIPSYNC]);
    for (const m of models) {
      await chooseModel(m);
      await checkA11y(page, `form of ${m}`);
    }
    // v5.5: its switches as checkboxes, priced per second.
    await chooseModel(V55);
    await page.check('#f-generate_audio_switch');
    await radio('10 s');
    await radio('720p');
    assert.match(await page.textContent('#price-total'), /1,050,000 credits/);
    await page.uncheck('#f-generate_audio_switch');
    await chooseModel(I2V);

    for (const vp of [{ width: 375, height: 812 }, PHONE]) {
      await page.setViewportSize(vp);
      for (const route of ['#/', '#/history']) {
        await page.evaluate((r) => (location.hash = r), route);
        await page.locator(route === '#/' ? '#model' : '#page-size').waitFor();
        const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
        assert.ok(scroll <= client, `${vp.width} px, ${route}: scrollWidth ${scroll} > ${client}`);
        await checkA11y(page, `${route} at ${vp.width} px`);
      }
    }
    await page.evaluate(() => (location.hash = '#/'));
    await page.locator('#model').waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, '09-phone');
    await page.setViewportSize(DESKTOP);
  });

  it('signs out and forgets the key', async () => {
    await page.click('text=Sign out');
    await page.locator('#api-key').waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('stillmotion.studio.key')), null);
    assert.equal(await page.evaluate(() => localStorage.getItem('stillmotion.studio.requests')), null);
    await page.reload();
    await page.locator('#api-key').waitFor();
  });

  it('shows a 429 and a 503 with the wait their Retry-After asks, counting down', { timeout: 60_000 }, async (t) => {
    if (!server.testKey) return t.skip('no test key (STUDIO_TEST_KEY)');
    await page.fill('#api-key', server.testKey);
    await page.click('button[type=submit]');
    await page.locator('#model').waitFor();
    await page.waitForFunction(() => /unlimited/.test(document.querySelector('.balance')?.textContent ?? ''));
    await chooseModel(I2V);
    await page.fill('#f-image_url-url', 'https://example.com/a.png');
    for (const [code, title] of [
      ['429', 'Too many requests'],
      ['503', 'The server is busy'],
    ]) {
      await page.fill('#f-prompt', `slow push in [stillmotion-script: submit=${code};retry_after=3]`);
      await page.click('.actions button[type=submit]');
      await page.waitForFunction((title) => document.querySelector('.banner .banner-title')?.textContent === title, title);
      assert.match(await page.textContent('.banner'), /retry after the time in Retry-After/);
      assert.match(await page.textContent('.countdown'), /^Try again in [1-3] s\.$/);
      assert.equal(await page.isDisabled('.actions button[type=submit]'), true);
      assert.match(await page.textContent('.actions button[type=submit]'), /^Wait [1-3] s$/);
      if (code === '429') {
        await page.locator('.actions').scrollIntoViewIfNeeded();
        await shot(page, '10-retry-after');
      }
      await page.waitForFunction(() => document.querySelector('.countdown')?.textContent === 'You can try again now.', null, { timeout: 10_000 });
      assert.equal(await page.isDisabled('.actions button[type=submit]'), false);
    }
  });

  it('cancels a running generation from the history', { timeout: 60_000 }, async (t) => {
    if (!server.testKey) return t.skip('no test key (STUDIO_TEST_KEY)');
    // Signed in with the test key: a generation scripted to run for a minute.
    const testApi = apiClient(server.url, server.testKey);
    const g = await testApi.call('POST', '/v2/video/generations', {
      model: I2V,
      prompt: 'slow push in [stillmotion-script: generate=60s]',
      image_url: 'https://example.com/a.png',
      resolution: '360p',
    });
    await page.click('nav a[href="#/history"]');
    const item = page.locator(`.history-item[data-id="${g.id}"]`);
    await item.waitFor();
    await page.waitForFunction((id) => /Generating/.test(document.querySelector(`.history-item[data-id="${id}"] .status`)?.textContent ?? ''), g.id, { timeout: 20_000 });
    await page.click(`[aria-label="Cancel ${g.id}"]`);
    await page.waitForFunction((id) => /Cancelled/.test(document.querySelector(`.history-item[data-id="${id}"] .status`)?.textContent ?? ''), g.id);
    assert.equal(await page.locator(`[aria-label="Cancel ${g.id}"]`).count(), 0);
    assert.equal((await testApi.poll(g.id)).error.name, 'cancelled');
    await page.click('nav a[href="#/"]');
  });

  it('says when the key has not enough credits (403)', async (t) => {
    if (!server.poorKey) return t.skip('no key with few credits (STUDIO_POOR_KEY)');
    await page.click('text=Sign out');
    await page.fill('#api-key', server.poorKey);
    await page.click('button[type=submit]');
    await page.locator('#model').waitFor();
    await page.waitForFunction(() => /Balance: 1,000 credits \(\$0\.0005\)/.test(document.querySelector('.balance')?.textContent ?? ''));
    await chooseModel(I2V);
    await page.fill('#f-image_url-url', 'https://example.com/a.png');
    await page.fill('#f-prompt', 'slow push in');
    await radio('360p');
    await page.click('.actions button[type=submit]');
    await page.waitForFunction(() => document.querySelector('.banner .banner-title')?.textContent === 'Not enough credits');
    assert.match(await page.textContent('.banner'), /Insufficient credits: this generation costs 315000 credits and the key has 1000 left/);
    assert.equal(await page.isDisabled('.actions button[type=submit]'), false);
  });

  it('breaks no rule of the Content-Security-Policy and throws no error', () => {
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });
});

describe('studio with text-to-video routed', { concurrency: false, skip: process.env.STUDIO_URL ? 'STUDIO_URL is set' : false }, () => {
  let srv, b, p;
  before(async () => {
    srv = await startServer({ engines: T2V_ENGINES, external: false });
    b = await launch();
    p = await (await b.newContext({ viewport: DESKTOP })).newPage();
    await p.goto(srv.url + '/');
    await p.fill('#api-key', srv.key);
    await p.click('button[type=submit]');
    await p.locator('#model').waitFor();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  it('shapes the frame by aspect ratio, with no image, and shows a failed generation', { timeout: 60_000 }, async () => {
    assert.deepEqual(await p.locator('#model option').evaluateAll((os) => os.map((o) => o.value)), ['pixverse/v5/text-to-video', 'pixverse/v5.5/text-to-video']);
    assert.equal(await p.locator('input[type=file]').count(), 0);
    assert.match(await p.textContent('#model-hint'), /Rendered by the comfyui engine/);
    await p.getByRole('radio', { name: '540p', exact: true }).check();
    await p.selectOption('#f-aspect_ratio', '9:16');
    assert.match(await p.textContent('#h-aspect_ratio'), /The video is 540×960 at 540p\./);
    await p.fill('#f-prompt', 'A lighthouse on a cliff at dusk, slow push in');
    assert.match(await p.textContent('#price-total'), /315,000 credits/);
    await checkA11y(p, 'text-to-video form');
    await p.selectOption('#model', 'pixverse/v5.5/text-to-video');
    // Its lengths; no switches, which this engine does not take (its parameters leave them out).
    assert.equal(await p.getByRole('radio', { name: '10 s', exact: true }).count(), 1);
    assert.equal(await p.locator('#f-generate_audio_switch').count(), 0);
    await checkA11y(p, 'v5.5 text-to-video form');
    await p.selectOption('#model', 'pixverse/v5/text-to-video');

    await p.click('.actions button[type=submit]');
    await p.waitForFunction(() => /Failed \(upstream_unavailable\)/.test(document.querySelector('#run-status')?.textContent ?? ''), null, { timeout: 30_000 });
    assert.match(await p.textContent('.run'), /ComfyUI server 127\.0\.0\.1:9 is not answering/);
    assert.match(await p.textContent('.run'), /Not charged/);
    assert.equal(await p.locator('.run button.danger').count(), 0);
    await checkA11y(p, 'failed generation');
  });
});
