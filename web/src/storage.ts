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

function loadAll(): Record<string, Kept> {
  try {
    const v = JSON.parse(get(REQUESTS) ?? '{}');
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

export function keptRequest(id: string): Kept | undefined {
  return loadAll()[id];
}

/**
 * Keeps the request of generation id. When storage is full the oldest
 * requests go first; a request whose files alone do not fit is kept
 * without them.
 */
export function keepRequest(id: string, request: Request) {
  const all = loadAll();
  all[id] = { request, at: Date.now() };
  const ids = Object.keys(all).sort((a, b) => all[b].at - all[a].at);
  for (const old of ids.slice(MAX_KEPT)) delete all[old];
  for (;;) {
    if (set(REQUESTS, JSON.stringify(all))) return;
    const live = Object.keys(all).sort((a, b) => all[a].at - all[b].at);
    if (live.length > 1) {
      delete all[live[0] === id ? live[1] : live[0]];
      continue;
    }
    const dropped = Object.keys(request).filter((k) => typeof request[k] === 'string' && (request[k] as string).startsWith('data:'));
    if (!dropped.length || all[id].dropped) return;
    const slim: Request = { ...request };
    for (const k of dropped) delete slim[k];
    all[id] = { request: slim, at: Date.now(), dropped };
  }
}
