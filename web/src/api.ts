// The API client of the studio: every call goes to the page's own origin
// with the key in the Authorization header.

export type ParamType = 'string' | 'integer' | 'boolean' | 'url';
export type Media = 'image' | 'video' | 'audio';
export type Scalar = string | number | boolean;

/** One request field of a model, as GET /v2/models lists it in `parameters`. */
export interface Param {
  name: string;
  type: ParamType;
  required?: boolean;
  enum?: Scalar[];
  default?: Scalar;
  min_length?: number;
  max_length?: number;
  minimum?: number;
  maximum?: number;
  media?: Media;
  /** Another parameter this one is sent only with (the voice needs speech text). */
  requires?: string;
  description?: string;
}

export interface Pricing {
  credits_per_second?: Record<string, number>;
  credits_per_speech_chunk?: number;
  speech_chunk_bytes?: number;
  credits_per_video?: number;
  extra_credits_per_second?: Record<string, number>;
  credits_per_usd?: number;
}

export interface Model {
  id: string;
  kind: string;
  schema?: string;
  engine?: string;
  fields?: string[];
  durations?: number[];
  pricing?: Pricing;
  parameters?: Param[];
  durations_by_resolution?: Record<string, number[]>;
  one_of?: string[][];
}

export interface Video {
  url: string;
  content_type?: string;
  file_name?: string;
  file_size?: number;
  width?: number;
  height?: number;
  duration?: number;
  fps?: number;
  has_audio?: boolean;
  warnings?: string[];
  plan?: string;
}

/** waiting and active are older words for queued and generating, which some servers still answer. */
export type Status = 'queued' | 'generating' | 'completed' | 'succeeded' | 'error' | 'waiting' | 'active';

export interface Generation {
  id: string;
  status: Status;
  queue_position?: number;
  progress?: number;
  plan?: string;
  video?: Video;
  error?: { name: string; message: string };
  expires_at?: string;
  meta?: { usage?: { credits_used?: number; usd_spent?: number } };
}

export interface Page {
  data: Generation[];
  has_more: boolean;
  next_cursor: string | null;
}

export interface Balance {
  balance: number | null;
  unlimited?: boolean;
  lowBalance?: boolean;
  lowBalanceThreshold?: number;
  lastUpdated?: string;
  status?: string;
  statusExplanation?: string;
}

export interface Voice {
  id: string;
  name?: string;
  preview_url?: string;
}

/** The OpenAI-shaped video object of GET /v1/videos/{id}. */
export interface VideoObject {
  id: string;
  model?: string;
  prompt?: string | null;
  seconds?: string;
  size?: string;
  created_at?: number;
}

export interface FieldError {
  field: string;
  message: string;
}

/** An answer other than 2xx, in the API's one error shape. */
export class ApiError extends Error {
  readonly status: number;
  readonly fields: FieldError[];
  readonly requestId?: string;
  /** Seconds to wait, from Retry-After (429, 503, 413). */
  readonly retryAfter?: number;

  constructor(status: number, message: string, fields: FieldError[] = [], requestId?: string, retryAfter?: number) {
    super(message);
    this.status = status;
    this.fields = fields;
    this.requestId = requestId;
    this.retryAfter = retryAfter;
  }
}

const RUNNING: (Status | undefined)[] = [undefined, 'queued', 'generating', 'waiting', 'active'];

/** Whether s is an end state: like the API's own examples, any word but those of a generation in progress. */
export const isDone = (s: Status | undefined) => !RUNNING.includes(s);

export const isGenerating = (s: Status | undefined) => s === 'generating' || s === 'active';

function retryAfterSeconds(v: string | null): number | undefined {
  if (!v) return undefined;
  const n = Number(v);
  if (Number.isFinite(n)) return Math.max(0, Math.ceil(n));
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.ceil((t - Date.now()) / 1000));
}

async function errorOf(res: Response): Promise<ApiError> {
  let body: { message?: string; errors?: FieldError[]; requestId?: string } = {};
  try {
    body = await res.json();
  } catch {
    // not JSON: a proxy's page, say
  }
  const message = body.message || `${res.status} ${res.statusText || 'error'}`;
  return new ApiError(res.status, message, Array.isArray(body.errors) ? body.errors : [], body.requestId ?? res.headers.get('x-request-id') ?? undefined, retryAfterSeconds(res.headers.get('retry-after')));
}

export class Api {
  constructor(readonly key: string) {}

  private headers(json: boolean): HeadersInit {
    const h: Record<string, string> = { Authorization: `Bearer ${this.key}`, Accept: 'application/json' };
    if (json) h['Content-Type'] = 'application/json';
    return h;
  }

  async raw(method: string, path: string, body?: string, signal?: AbortSignal): Promise<Response> {
    const res = await fetch(path, { method, headers: this.headers(body !== undefined), body, signal, cache: 'no-store' });
    if (!res.ok) throw await errorOf(res);
    return res;
  }

  async json<T>(method: string, path: string, body?: string, signal?: AbortSignal): Promise<T> {
    const res = await this.raw(method, path, body, signal);
    return (await res.json()) as T;
  }

  models(signal?: AbortSignal) {
    return this.json<{ data: Model[] }>('GET', '/v2/models', undefined, signal).then((r) => r.data ?? []);
  }

  /** Submits body, the request's JSON text exactly as it is sent. */
  submit(body: string) {
    return this.json<Generation>('POST', '/v2/video/generations', body);
  }

  poll(id: string, signal?: AbortSignal) {
    return this.json<Generation>('GET', `/v2/video/generations?generation_id=${encodeURIComponent(id)}`, undefined, signal);
  }

  cancel(id: string) {
    return this.json<Generation>('DELETE', `/v2/video/generations?generation_id=${encodeURIComponent(id)}`);
  }

  list(after: string | null, limit: number, signal?: AbortSignal) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (after) q.set('after', after);
    return this.json<Page>('GET', `/v2/video/generations/list?${q}`, undefined, signal);
  }

  remove(id: string) {
    return this.json<unknown>('DELETE', `/v1/videos/${encodeURIComponent(id)}`);
  }

  videoObject(id: string) {
    return this.json<VideoObject>('GET', `/v1/videos/${encodeURIComponent(id)}`);
  }

  balance(signal?: AbortSignal) {
    return this.json<Balance>('GET', '/v1/billing/balance', undefined, signal);
  }

  voices(signal?: AbortSignal) {
    return this.json<{ data: Voice[] }>('GET', '/v2/voices', undefined, signal).then((r) => r.data ?? []);
  }

  /** Fetches path (a thumbnail, a voice preview) and returns a blob: URL of it. */
  async blobURL(path: string, signal?: AbortSignal): Promise<string> {
    const res = await fetch(path, { headers: { Authorization: `Bearer ${this.key}` }, signal });
    if (!res.ok) throw await errorOf(res);
    return URL.createObjectURL(await res.blob());
  }

  thumbnail(id: string, signal?: AbortSignal) {
    return this.blobURL(`/v1/videos/${encodeURIComponent(id)}/content?variant=thumbnail`, signal);
  }

  /**
   * Follows generation id until it ends, calling onUpdate with each state:
   * from the server-sent events stream (read with fetch, since EventSource
   * cannot send the Authorization header), and by polling when the stream
   * breaks off before the end.
   */
  async watch(id: string, onUpdate: (g: Generation) => void, signal: AbortSignal): Promise<Generation | undefined> {
    let last: Generation | undefined;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const res = await fetch(`/v2/video/generations/events?generation_id=${encodeURIComponent(id)}`, {
          headers: { Authorization: `Bearer ${this.key}`, Accept: 'text/event-stream' },
          signal,
          cache: 'no-store',
        });
        if (!res.ok) throw await errorOf(res);
        if (!res.body) throw new Error('the event stream has no body');
        for await (const ev of readEvents(res.body, signal)) {
          if (ev.event !== 'generation') continue;
          const g = JSON.parse(ev.data) as Generation;
          last = g;
          failures = 0;
          onUpdate(g);
          if (isDone(g.status)) return g;
        }
      } catch (err) {
        if (signal.aborted) return last;
        if (err instanceof ApiError && err.status !== 429 && err.status !== 503 && err.status < 500) throw err;
        failures++;
      }
      // The stream ended early: poll once, then open it again.
      await delay(Math.min(500 * 2 ** failures, 5000), signal);
      if (signal.aborted) return last;
      try {
        const g = await this.poll(id, signal);
        last = g;
        onUpdate(g);
        if (isDone(g.status)) return g;
      } catch (err) {
        if (signal.aborted) return last;
        if (err instanceof ApiError && err.status === 404) throw err;
      }
    }
    return last;
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

export interface SSEvent {
  event: string;
  data: string;
  id?: string;
}

/** Parses a text/event-stream body into its events (the WHATWG rules). */
export async function* readEvents(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<SSEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  const abort = () => reader.cancel().catch(() => {});
  signal?.addEventListener('abort', abort);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buf += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(buf[nl] === '\r' && buf[nl + 1] === '\n' ? nl + 2 : nl + 1);
        if (line === '') {
          if (data.length) yield { event: event || 'message', data: data.join('\n'), id };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'event') event = val;
        else if (field === 'data') data.push(val);
        else if (field === 'id') id = val;
      }
      if (done) return;
    }
  } finally {
    signal?.removeEventListener('abort', abort);
    // Closes the connection when the caller stops early (the end state came).
    reader.cancel().catch(() => {});
  }
}

/**
 * The address to play and download video.url from. The server signs it
 * with its public URL; when that names this same server under another
 * host name (localhost and 127.0.0.1, say) the page's
 * Content-Security-Policy (media-src 'self') would block it, so a /files/
 * URL is played from the page's own origin.
 */
export function playableURL(url: string): string {
  try {
    const u = new URL(url, location.href);
    if (u.origin !== location.origin && u.pathname.startsWith('/files/')) return u.pathname + u.search;
    return u.href;
  } catch {
    return url;
  }
}
