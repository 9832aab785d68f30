// What a model's form is made of: its parameters (from GET /v2/models),
// the values a person gave, the request they make and the checks done
// before sending it.

import type { Model, Param, Scalar } from './api';

/** A url parameter's value: a file read into a data: URI, or a typed URL. */
export interface MediaValue {
  source: 'file' | 'url';
  /** The data: URI of the file, or the URL as typed. */
  url: string;
  name?: string;
  size?: number;
  type?: string;
  /** A blob: URL to preview the file with (media-src allows blob:, not data:). */
  preview?: string;
  width?: number;
  height?: number;
  duration?: number;
}

export type Value = string | boolean | MediaValue | undefined;
export type Values = Record<string, Value>;
export type Request = Record<string, Scalar>;

export const isMedia = (v: Value): v is MediaValue => typeof v === 'object' && v !== null;

/** The speech fields, which get the byte counter, the price and the voices. */
export const SPEECH = 'lip_sync_tts_content';
export const SPEAKER = 'lip_sync_tts_speaker';

const LABELS: Record<string, string> = {
  prompt: 'Prompt',
  negative_prompt: 'Negative prompt',
  image_url: 'Image (first frame)',
  tail_image_url: 'Last frame image',
  video_url: 'Video',
  audio_url: 'Audio (speech)',
  resolution: 'Resolution',
  duration: 'Duration',
  style: 'Style',
  seed: 'Seed',
  aspect_ratio: 'Aspect ratio',
  lip_sync_tts_content: 'Speech text',
  lip_sync_tts_speaker: 'Voice',
  generate_audio_switch: 'Generate sound',
  generate_multi_clip_switch: 'Several shots (multi-clip)',
  thinking_type: 'Prompt reading (thinking)',
};

const HINTS: Record<string, string> = {
  prompt: 'What happens: camera words ("slow push in", "pan left"), light, weather, style.',
  negative_prompt: 'What to avoid ("parallax" keeps one layer).',
  seed: 'The same request and seed give the same video. Empty: the server picks one.',
  lip_sync_tts_content: 'Spoken with the lips in sync. Priced per started chunk of UTF-8 bytes.',
  generate_audio_switch: 'Ambience and effects from the scene; off: a silent video.',
  generate_multi_clip_switch: 'Cuts the clip into shots, wide to close.',
  thinking_type: 'With enabled or auto, the plan ends with how the prompt was read.',
  tail_image_url: 'The transition ends on this picture.',
  video_url: 'A video of a person talking (MP4, MOV or WebM), whose mouth is re-animated.',
  audio_url: 'The speech to put in the mouth (WAV, MP3, M4A, OGG, FLAC or WebM).',
};

export function label(p: Param | string): string {
  const name = typeof p === 'string' ? p : p.name;
  if (LABELS[name]) return LABELS[name];
  const s = name.replace(/_url$/, '').replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function hint(p: Param): string | undefined {
  return p.description || HINTS[p.name];
}

const OPTION_LABELS: Record<string, string> = {
  '3d_animation': '3D animation',
};

export function optionLabel(p: Param, v: Scalar): string {
  if (p.name === 'duration') return `${v} s`;
  if (typeof v === 'string' && OPTION_LABELS[v]) return OPTION_LABELS[v];
  if (typeof v === 'string' && p.name === 'style') return v.charAt(0).toUpperCase() + v.slice(1).replace(/_/g, ' ');
  return String(v);
}

// The family's fields, for a server that lists only `fields` (it predates
// `parameters`): the same definitions it would send.
const RES = ['360p', '540p', '720p', '1080p'];
const VOICES = ['Harper', 'Ava', 'Isabella', 'Sophia', 'Emily', 'Chloe', 'Julia', 'Mason', 'Jack', 'Liam', 'James', 'Oliver', 'Adrian', 'Ethan', 'Auto'];
const FAMILY: Record<string, Omit<Param, 'name'>> = {
  prompt: { type: 'string', min_length: 1, max_length: 2048 },
  image_url: { type: 'url', media: 'image' },
  tail_image_url: { type: 'url', media: 'image' },
  video_url: { type: 'url', media: 'video' },
  audio_url: { type: 'url', media: 'audio' },
  aspect_ratio: { type: 'string', enum: ['16:9', '4:3', '1:1', '3:4', '9:16'], default: '16:9' },
  resolution: { type: 'string', enum: RES, default: '720p' },
  duration: { type: 'integer', default: 5 },
  negative_prompt: { type: 'string', max_length: 2048 },
  style: { type: 'string', enum: ['anime', '3d_animation', 'clay', 'comic', 'cyberpunk'] },
  seed: { type: 'integer', minimum: 0, maximum: 2147483647 },
  lip_sync_tts_content: { type: 'string', min_length: 1, max_length: 200 },
  lip_sync_tts_speaker: { type: 'string', enum: VOICES, default: 'Auto', requires: SPEECH },
  generate_audio_switch: { type: 'boolean', default: false },
  generate_multi_clip_switch: { type: 'boolean', default: false },
  thinking_type: { type: 'string', enum: ['enabled', 'disabled', 'auto'], default: 'enabled' },
};

/** The model's parameters: its own list, or one made from its `fields`. */
export function paramsOf(m: Model): Param[] {
  if (Array.isArray(m.parameters) && m.parameters.length) return m.parameters;
  const fields = m.fields ?? [];
  const out: Param[] = [];
  for (const name of fields) {
    const def = FAMILY[name];
    if (!def) continue;
    const p: Param = { name, ...def };
    if (name === 'duration') p.enum = m.durations ?? [5];
    if (name === 'prompt' || name === 'image_url' || name === 'video_url' || name === 'tail_image_url') p.required = true;
    out.push(p);
  }
  return out;
}

export function oneOfGroups(m: Model): string[][] {
  if (Array.isArray(m.one_of)) return m.one_of;
  if (m.parameters) return [];
  const f = m.fields ?? [];
  return f.includes('audio_url') && f.includes(SPEECH) ? [['audio_url', SPEECH]] : [];
}

export function durationsAt(m: Model, resolution: string | undefined): number[] | undefined {
  const byRes = m.durations_by_resolution ?? (m.parameters ? undefined : { '1080p': [5] });
  if (resolution && byRes?.[resolution]) return byRes[resolution];
  return undefined;
}

/** The value a parameter starts with. */
export function initialValue(p: Param): Value {
  if (p.type === 'boolean') return p.default === true;
  if (p.enum && p.default !== undefined) return String(p.default);
  if (p.type === 'integer' && p.enum && p.enum.length) return String(p.enum[0]);
  return undefined;
}

export function valueOf(p: Param, values: Values): Value {
  return p.name in values ? values[p.name] : initialValue(p);
}

export const codePoints = (s: string) => [...s].length;
export const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;

function present(p: Param, v: Value): boolean {
  if (v === undefined) return false;
  if (isMedia(v)) return v.url.trim() !== '';
  if (typeof v === 'boolean') return v !== (p.default === true);
  return v.trim() !== '' || (p.required === true && v !== '');
}

/** The request the form makes: the fields given, in the parameters' order. */
export function buildRequest(m: Model, values: Values): Request {
  const req: Request = { model: m.id };
  const params = paramsOf(m);
  for (const p of params) {
    const v = valueOf(p, values);
    if (v === undefined || !present(p, v)) continue;
    const needs = p.requires ? params.find((q) => q.name === p.requires) : undefined;
    if (p.requires && !(needs && present(needs, valueOf(needs, values)))) continue;
    if (isMedia(v)) req[p.name] = v.source === 'url' ? v.url.trim() : v.url;
    else if (typeof v === 'boolean') req[p.name] = v;
    else if (p.type === 'integer') {
      const n = Number(v.trim());
      req[p.name] = Number.isFinite(n) && v.trim() !== '' ? n : v;
    } else req[p.name] = v;
  }
  return req;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** Checks a request can be sent: messages by field, as the server words its own. */
export function validate(m: Model, values: Values, req: Request): Record<string, string> {
  const errs: Record<string, string> = {};
  const params = paramsOf(m);
  for (const p of params) {
    const v = valueOf(p, values);
    const sent = req[p.name];
    if (p.required && sent === undefined) {
      errs[p.name] = p.type === 'url' ? `Required: choose a file or give a URL` : 'Required';
      continue;
    }
    if (sent === undefined) continue;
    if (p.type === 'string' && typeof sent === 'string' && !p.enum) {
      const n = codePoints(sent);
      if (p.required && sent.trim() === '') errs[p.name] = 'Required: it must not be blank';
      else if (p.max_length !== undefined && n > p.max_length) errs[p.name] = `Too long: ${fmt(n)} characters, at most ${fmt(p.max_length)}`;
      else if (p.min_length !== undefined && n < p.min_length) errs[p.name] = `Too short: at least ${fmt(p.min_length)} characters`;
    }
    if (p.type === 'integer') {
      if (typeof sent !== 'number' || !Number.isInteger(sent)) errs[p.name] = 'Must be a whole number';
      else if ((p.minimum !== undefined && sent < p.minimum) || (p.maximum !== undefined && sent > p.maximum))
        errs[p.name] = `Must be between ${fmt(p.minimum ?? -Infinity)} and ${fmt(p.maximum ?? Infinity)}`;
    }
    if (p.enum && !p.enum.map(String).includes(String(sent))) errs[p.name] = `Must be one of ${p.enum.join(', ')}`;
    if (isMedia(v) && v.source === 'file' && v.url.length > MAX_INLINE) errs[p.name] = `This file is too large to send inline (${mb(v.size ?? 0)}); give a URL instead`;
  }
  const res = typeof req.resolution === 'string' ? req.resolution : undefined;
  const allowed = durationsAt(m, res);
  if (allowed && typeof req.duration === 'number' && !allowed.includes(req.duration) && !errs.duration)
    errs.duration = `${res} supports only duration ${allowed.join(' or ')}`;
  for (const group of oneOfGroups(m)) {
    const given = group.filter((f) => req[f] !== undefined);
    const names = group.map((f) => label(f).toLowerCase()).join(' or ');
    if (given.length === 0) errs[group[0]] ??= `Required: give ${names}`;
    else if (given.length > 1) for (const f of given) errs[f] ??= `Give only one of ${names}, not both`;
  }
  return errs;
}

/** The most a data: URI may be: the server takes bodies of up to 32 MiB. */
export const MAX_INLINE = 32 * 1024 * 1024 - 64 * 1024;

export function mb(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const even = (x: number) => Math.max(2, Math.round(x / 2) * 2);

/** The frame a clip model renders: short side = resolution, the image's aspect ratio clamped to 9:16..16:9. */
export function outputFrame(w: number, h: number, resolution: string): { width: number; height: number } | undefined {
  const short = parseInt(resolution, 10);
  if (!short || !w || !h) return undefined;
  const a = Math.min(16 / 9, Math.max(9 / 16, w / h));
  return a >= 1 ? { width: even(short * a), height: even(short) } : { width: even(short), height: even(short / a) };
}

/** The part of a w×h image the frame keeps, as fractions (the aspect ratio clamp crops the middle). */
export function cropOf(w: number, h: number): { x: number; y: number; w: number; h: number } {
  const a = w / h;
  if (a > 16 / 9) {
    const cw = (h * 16) / 9 / w;
    return { x: (1 - cw) / 2, y: 0, w: cw, h: 1 };
  }
  if (a < 9 / 16) {
    const ch = (w * 16) / 9 / h;
    return { x: 0, y: (1 - ch) / 2, w: 1, h: ch };
  }
  return { x: 0, y: 0, w: 1, h: 1 };
}

export function aspectFrame(ratio: string, resolution: string): { width: number; height: number } | undefined {
  const m = /^(\d+):(\d+)$/.exec(ratio);
  if (!m) return undefined;
  return outputFrame(Number(m[1]), Number(m[2]), resolution);
}
