// What the studio keeps in this browser's localStorage: the API key, and
// the requests it submitted by generation id (the API's generation bodies
// do not carry the request, so "again" reloads it from here).

import type { Request } from './params';

const KEY = 'stillmotion.studio.key';
const REQUESTS = 'stillmotion.studio.requests';
const PAGE_SIZE = 'stillmotion.studio.pageSize';
const MAX_KEPT = 100;

export interface Kept {
  request: Request;
  at: number;
  /** Files too large to keep here, dropped from request. */
  dropped?: string[];
}

function get(k: string): string | null {
  try {
    return localStorage.getItem(k);
  } catch {
    return null;
  }
}

function set(k: string, v: string): boolean {
  try {
    localStorage.setItem(k, v);
    return true;
  } catch {
    return false;
  }
}

export const loadKey = () => get(KEY) ?? '';
export const saveKey = (key: string) => set(KEY, key);

/** Forgets the key and the requests kept with it. */
export function forget() {
  cache = null;
  try {
    localStorage.removeItem(KEY);
    localStorage.removeItem(REQUESTS);
  } catch {
    // storage disabled: nothing kept
  }
}

export function loadPageSize(): number {
  const n = Number(get(PAGE_SIZE));
  return [5, 10, 20, 50].includes(n) ? n : 10;
}
export const savePageSize = (n: number) => set(PAGE_SIZE, String(n));

// The parsed requests, read once: they may hold megabytes of data: URIs,
// and the history looks each of its generations up.
let cache: Record<string, Kept> | null = null;

function loadAll(): Record<string, Kept> {
  if (cache) return cache;
  try {
    const v = JSON.parse(get(REQUESTS) ?? '{}');
    cache = v && typeof v === 'object' ? v : {};
  } catch {
    cache = {};
  }
  return cache!;
}

// Another tab of the studio may keep requests too.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key === REQUESTS || e.key === null) cache = null;
  });
}

export function keptRequest(id: string): Kept | undefined {
  return loadAll()[id];
}

const inline = (r: Request) => Object.keys(r).filter((k) => typeof r[k] === 'string' && (r[k] as string).startsWith('data:'));

/** k without its data: URIs, which it names as dropped. */
function slim(k: Kept): Kept {
  const files = inline(k.request);
  const request: Request = { ...k.request };
  for (const f of files) delete request[f];
  return { ...k, request, dropped: [...(k.dropped ?? []), ...files] };
}

/**
 * Keeps the request of generation id. When storage is full, the files of
 * the oldest requests go first, then this one's, then the oldest requests.
 */
export function keepRequest(id: string, request: Request) {
  const all = { ...loadAll() };
  cache = all;
  all[id] = { request, at: Date.now() };
  const ids = Object.keys(all).sort((a, b) => all[b].at - all[a].at);
  for (const old of ids.slice(MAX_KEPT)) delete all[old];
  for (;;) {
    if (set(REQUESTS, JSON.stringify(all))) return;
    const older = Object.keys(all)
      .filter((k) => k !== id)
      .sort((a, b) => all[a].at - all[b].at);
    const fat = older.find((k) => inline(all[k].request).length > 0);
    if (fat) all[fat] = slim(all[fat]);
    else if (inline(all[id].request).length) all[id] = slim(all[id]);
    else if (older.length) delete all[older[0]];
    else return;
  }
}
