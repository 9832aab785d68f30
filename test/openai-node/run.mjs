// run.mjs drives a stillmotion server with the official openai package, as
// a user of OpenAI's video API would: create (an uploaded image file, and an
// image URL), retrieve until done, list with cursor pages, download the
// content and its thumbnail, delete. It prints a JSON summary and exits non-zero on the first
// broken expectation.
//
// Usage: node run.mjs BASE_URL API_KEY IMAGE_FILE IMAGE_URL OUT_MP4
import fs from 'node:fs';
import OpenAI from 'openai';

const [baseURL, apiKey, imageFile, imageURL, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: node run.mjs BASE_URL API_KEY IMAGE_FILE IMAGE_URL OUT_MP4');
  process.exit(2);
}
const client = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey, maxRetries: 0, timeout: 30_000 });

function check(ok, what, detail) {
  if (!ok) {
    console.error(`FAIL: ${what}`, detail === undefined ? '' : JSON.stringify(detail));
    process.exit(1);
  }
}

const sdk = JSON.parse(fs.readFileSync(new URL('./node_modules/openai/package.json', import.meta.url))).version;
const summary = { sdk, progress: [] };

// Create from an uploaded file (multipart input_reference).
const video = await client.videos.create({
  model: 'sora-2',
  prompt: 'A slow zoom in on the launch pad',
  seconds: '5',
  size: '640x360',
  input_reference: fs.createReadStream(imageFile),
});
check(video.object === 'video' && video.status === 'queued' && video.id.length === 21, 'create', video);
check(video.seconds === '5' && video.size === '640x360' && video.progress === 0, 'create fields', video);
summary.created = video.id;

// Create from an image URL, then delete it at once: it is cancelled.
const other = await client.videos.create({ prompt: 'rain', input_reference: { image_url: imageURL } });
check(other.status === 'queued', 'create by URL', other);
const del1 = await client.videos.delete(other.id);
check(del1.deleted === true && del1.object === 'video.deleted' && del1.id === other.id, 'delete while queued', del1);

// A bad request comes back as the SDK's typed error.
try {
  await client.videos.create({ prompt: 'x', seconds: '12', input_reference: { image_url: imageURL } });
  check(false, 'seconds 12 was accepted');
} catch (err) {
  check(err instanceof OpenAI.BadRequestError && err.param === 'seconds', 'bad request error', { status: err.status, param: err.param, message: err.message });
  summary.bad_request = err.message;
}

// Retrieve until it ends.
let v = video;
const deadline = Date.now() + 240_000;
while (v.status === 'queued' || v.status === 'in_progress') {
  check(Date.now() < deadline, 'video did not finish in time', v);
  await new Promise((r) => setTimeout(r, 300));
  v = await client.videos.retrieve(video.id);
  check(v.progress >= 0 && v.progress <= 100, 'progress in 0..100', v);
  summary.progress.push(v.progress);
}
check(v.status === 'completed' && v.progress === 100 && v.error === null, 'completed', v);
check(typeof v.completed_at === 'number' && v.completed_at >= v.created_at, 'completed_at', v);
summary.size = v.size;

// List, one per page, following the cursor (auto-pagination).
const ids = [];
for await (const item of client.videos.list({ limit: 1, order: 'asc' })) {
  ids.push(item.id);
}
check(ids.includes(video.id) && !ids.includes(other.id), 'list', ids);
summary.listed = ids;

// Download the content.
const res = await client.videos.downloadContent(video.id);
const bytes = Buffer.from(await res.arrayBuffer());
check(bytes.length > 1000, 'content size', bytes.length);
fs.writeFileSync(outPath, bytes);
summary.bytes = bytes.length;

// The thumbnail: a JPEG of the first frame.
const thumb = Buffer.from(await (await client.videos.downloadContent(video.id, { variant: 'thumbnail' })).arrayBuffer());
check(thumb[0] === 0xff && thumb[1] === 0xd8, 'thumbnail is a JPEG', thumb.subarray(0, 4).toString('hex'));
summary.thumbnail_bytes = thumb.length;

// Delete: gone from retrieve and list.
const del2 = await client.videos.delete(video.id);
check(del2.deleted === true, 'delete', del2);
try {
  await client.videos.retrieve(video.id);
  check(false, 'a deleted video was retrieved');
} catch (err) {
  check(err instanceof OpenAI.NotFoundError, 'retrieve after delete is a 404', { status: err.status, message: err.message });
}
const after = await client.videos.list();
check(!after.data.some((x) => x.id === video.id), 'list after delete', after.data);

console.log(JSON.stringify(summary));
