// Reading files into data: URIs and finding their size and length.

import type { Media } from './api';
import type { MediaValue } from './params';

const EXT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  flac: 'audio/flac',
};

export function typeOf(file: File): string {
  if (file.type) return file.type;
  const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
  return EXT_TYPES[ext] ?? 'application/octet-stream';
}

export const ACCEPT: Record<Media, string> = {
  image: 'image/jpeg,image/png,image/webp,image/gif',
  video: 'video/mp4,video/quicktime,video/webm,.mp4,.mov,.webm',
  audio: 'audio/*,.wav,.mp3,.m4a,.aac,.ogg,.opus,.flac,.webm',
};

function readDataURI(file: File, type: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => {
      const s = String(r.result);
      // FileReader names the file's own type; an empty one becomes
      // application/octet-stream, which the server cannot tell apart.
      resolve(s.replace(/^data:[^;,]*/, `data:${type}`));
    };
    r.onerror = () => reject(r.error ?? new Error('the file could not be read'));
    r.readAsDataURL(file);
  });
}

/** Reads file into a MediaValue: its data: URI, a blob: URL to preview it and its size or length. */
export async function readFile(file: File, media: Media | undefined): Promise<MediaValue> {
  const type = typeOf(file);
  const url = await readDataURI(file, type);
  const preview = URL.createObjectURL(file);
  const v: MediaValue = { source: 'file', url, name: file.name, size: file.size, type, preview };
  await measure(v, media ?? mediaOfType(type));
  return v;
}

export function mediaOfType(type: string): Media | undefined {
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('audio/')) return 'audio';
  return undefined;
}

/** Fills in v's pixel size (images, videos) and duration (videos, audio), where the browser can decode it. */
export function measure(v: MediaValue, media: Media | undefined): Promise<void> {
  const src = v.preview;
  if (!src) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => resolve();
    const timer = setTimeout(done, 5000);
    if (media === 'image') {
      const img = new Image();
      img.onload = () => {
        v.width = img.naturalWidth;
        v.height = img.naturalHeight;
        clearTimeout(timer);
        done();
      };
      img.onerror = () => {
        clearTimeout(timer);
        done();
      };
      img.src = src;
      return;
    }
    if (media === 'video' || media === 'audio') {
      const el = document.createElement(media);
      el.preload = 'metadata';
      el.muted = true;
      el.onloadedmetadata = () => {
        if (Number.isFinite(el.duration)) v.duration = el.duration;
        if (el instanceof HTMLVideoElement && el.videoWidth) {
          v.width = el.videoWidth;
          v.height = el.videoHeight;
        }
        clearTimeout(timer);
        el.removeAttribute('src');
        el.load();
        done();
      };
      el.onerror = () => {
        clearTimeout(timer);
        done();
      };
      el.src = src;
      return;
    }
    clearTimeout(timer);
    done();
  });
}

/** Turns a kept data: URI back into a MediaValue with a preview (a blob: URL, as CSP's media-src has no data:). */
export async function fromDataURI(uri: string, name: string, media: Media | undefined): Promise<MediaValue> {
  const m = /^data:([^;,]*)(;base64)?,/.exec(uri);
  const type = m?.[1] || 'application/octet-stream';
  let bytes: Uint8Array;
  const payload = uri.slice(m ? m[0].length : uri.indexOf(',') + 1);
  if (m?.[2]) {
    const bin = atob(payload);
    bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  } else {
    bytes = new TextEncoder().encode(decodeURIComponent(payload));
  }
  const blob = new Blob([bytes as BlobPart], { type });
  const v: MediaValue = { source: 'file', url: uri, name, size: blob.size, type, preview: URL.createObjectURL(blob) };
  await measure(v, media ?? mediaOfType(type));
  return v;
}
