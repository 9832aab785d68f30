// testmode.mjs drives a stillmotion test key with the official openai
// package and its own retry logic: each case sends a test script in the
// X-Stillmotion-Script header (the SDK's defaultHeaders), creates a video
// and retrieves it until it ends. Faults on the submit and the polls (429,
// 500, 502, 503, 504, a reset connection) must be retried by the SDK
// itself. It prints a JSON summary and exits non-zero on the first
// broken expectation.
//
// Usage: node testmode.mjs BASE_URL TEST_KEY IMAGE_URL
import OpenAI from 'openai';

const [baseURL, apiKey, imageURL] = process.argv.slice(2);
if (!imageURL) {
  console.error('usage: node testmode.mjs BASE_URL TEST_KEY IMAGE_URL');
  process.exit(2);
}

function check(ok, what, detail) {
  if (!ok) {
    console.error(`FAIL: ${what}`, detail === undefined ? '' : JSON.stringify(detail));
    process.exit(1);
  }
}

const cases = [
  { name: 'completed', script: 'generate=1s', status: 'completed' },
  { name: 'scripted error', script: 'generate=500ms;then=error:image_fetch_failed:The image host answered 404', status: 'failed', error: 'image_fetch_failed' },
  { name: '429 then 503 on the submit', script: 'submit=1:429,2:503', status: 'completed' },
  { name: '500 and 502 on the submit', script: 'submit=1:500,2:502', status: 'completed' },
  { name: 'a reset on the submit', script: 'submit=1:reset', status: 'completed' },
  { name: '504 and 429 on the polls', script: 'generate=1s;poll=1:504,2:429,3:500', status: 'completed' },
  { name: 'a slow poll', script: 'poll=1:slow', status: 'completed' },
];

const summary = [];
for (const c of cases) {
  const client = new OpenAI({
    baseURL: `${baseURL}/v1`, apiKey, maxRetries: 3, timeout: 30_000,
    defaultHeaders: { 'X-Stillmotion-Script': c.script },
  });
  const started = Date.now();
  let video = await client.videos.create({ prompt: 'A slow zoom in', seconds: '5', size: '640x360', input_reference: { image_url: imageURL } });
  const seen = [video.status];
  while (video.status === 'queued' || video.status === 'in_progress') {
    await new Promise((r) => setTimeout(r, 200));
    video = await client.videos.retrieve(video.id);
    if (seen.at(-1) !== video.status) seen.push(video.status);
  }
  check(video.status === c.status, `${c.name}: status`, video);
  if (c.error) {
    check(video.error?.code === c.error, `${c.name}: error code`, video.error);
  }
  summary.push({ case: c.name, statuses: seen, error: video.error?.code ?? null, ms: Date.now() - started });
}
console.log(JSON.stringify(summary));
