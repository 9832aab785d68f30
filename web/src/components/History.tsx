import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, isDone, type Api, type Generation } from '../api';
import { keptRequest, loadPageSize, savePageSize } from '../storage';
import { statusText } from './RunPanel';

interface Props {
  api: Api;
  onOpen: (g: Generation) => void;
  onAgain: (id: string) => void;
  onChanged: () => void;
  onAuthError: (err: ApiError) => void;
}

const SIZES = [5, 10, 20, 50];

/** The key's generations, newest first, a page at a time. */
export function History({ api, onOpen, onAgain, onChanged, onAuthError }: Props) {
  const [size, setSize] = useState(loadPageSize);
  // cursors[i] is the `after` of page i (null for the first).
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<{ items: Generation[]; hasMore: boolean; next: string | null } | null>(null);
  const [error, setError] = useState('');
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  const [thumbs, setThumbs] = useState<Record<string, string>>({});
  const [confirming, setConfirming] = useState('');
  const [status, setStatus] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  const index = cursors.length - 1;
  const after = cursors[index];

  useEffect(() => {
    const ac = new AbortController();
    setLoading(true);
    api
      .list(after, size, ac.signal)
      .then((p) => {
        setPage({ items: p.data ?? [], hasMore: p.has_more, next: p.next_cursor });
        setError('');
      })
      .catch((err) => {
        if (ac.signal.aborted) return;
        if (err instanceof ApiError && err.status === 401) onAuthError(err);
        setError(err instanceof ApiError ? err.message : `The history could not be loaded: ${(err as Error).message}`);
      })
      .finally(() => !ac.signal.aborted && setLoading(false));
    return () => ac.abort();
  }, [api, after, size, tick]);

  // While a generation on the page runs, the page is read again every 2 s.
  const running = page?.items.some((g) => !isDone(g.status)) ?? false;
  useEffect(() => {
    if (!running) return;
    const t = setTimeout(() => setTick((n) => n + 1), 2000);
    return () => clearTimeout(t);
  }, [running, page]);

  // Thumbnails need the key, so they are fetched and shown as blob: URLs.
  const thumbsRef = useRef(thumbs);
  thumbsRef.current = thumbs;
  useEffect(() => {
    const ac = new AbortController();
    for (const g of page?.items ?? []) {
      if ((g.status === 'completed' || g.status === 'succeeded') && !thumbsRef.current[g.id]) {
        api
          .thumbnail(g.id, ac.signal)
          .then((url) => setThumbs((t) => ({ ...t, [g.id]: url })))
          .catch(() => {});
      }
    }
    return () => ac.abort();
  }, [page]);
  useEffect(() => () => Object.values(thumbsRef.current).forEach((u) => URL.revokeObjectURL(u)), []);

  async function act(g: Generation, what: 'cancel' | 'delete') {
    setStatus('');
    try {
      if (what === 'cancel') {
        await api.cancel(g.id);
        setStatus(`Cancelled ${g.id}.`);
      } else {
        await api.remove(g.id);
        setStatus(`Deleted ${g.id} and its video.`);
        setConfirming('');
        if (page && page.items.length === 1 && index > 0) setCursors((c) => c.slice(0, -1));
      }
      onChanged();
      setTick((n) => n + 1);
    } catch (err) {
      setStatus(err instanceof ApiError ? err.message : (err as Error).message);
    }
  }

  function go(to: 'next' | 'prev') {
    if (to === 'next' && page?.next) setCursors((c) => [...c, page.next]);
    if (to === 'prev' && index > 0) setCursors((c) => c.slice(0, -1));
    heading.current?.focus();
  }

  return (
    <main id="main" class="history" tabIndex={-1}>
      <section class="card" aria-labelledby="history-title">
        <div class="history-head">
          <h1 id="history-title" ref={heading} tabIndex={-1}>
            History
          </h1>
          <div class="row">
            <label for="page-size">Per page</label>
            <select
              id="page-size"
              value={String(size)}
              onChange={(e) => {
                const n = Number(e.currentTarget.value);
                setSize(n);
                savePageSize(n);
                setCursors([null]);
              }}
            >
              {SIZES.map((n) => (
                <option key={n} value={String(n)}>
                  {n}
                </option>
              ))}
            </select>
            <button type="button" class="secondary" onClick={() => setTick((n) => n + 1)}>
              Refresh
            </button>
          </div>
        </div>
        <p class="hint">The generations of this key, newest first. The server keeps them for its retention time.</p>
        <p role="status" class="history-status">
          {loading && !page ? 'Loading…' : status}
        </p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {page && page.items.length === 0 && <p>No generations {index > 0 ? 'on this page' : 'yet'}.</p>}
        <ul class="history-list" aria-busy={loading ? 'true' : 'false'}>
          {page?.items.map((g) => {
            const kept = keptRequest(g.id);
            const req = kept?.request;
            const prompt = typeof req?.prompt === 'string' ? req.prompt : typeof req?.lip_sync_tts_content === 'string' ? `“${req.lip_sync_tts_content}”` : '';
            const thumb = thumbs[g.id];
            return (
              <li key={g.id} class="history-item" data-id={g.id} data-status={g.status}>
                <div class="thumb">
                  {thumb ? (
                    <img src={thumb} alt={`First frame of ${g.id}`} width={160} height={90} />
                  ) : (
                    <span class="thumb-placeholder" aria-hidden="true">
                      {g.status === 'error' ? '×' : isDone(g.status) ? '' : '…'}
                    </span>
                  )}
                </div>
                <div class="item-body">
                  <p class="item-title">
                    {req ? <span class="model-name">{String(req.model)}</span> : <span class="elsewhere">made outside this browser</span>}
                    <code class="item-id">{g.id}</code>
                  </p>
                  {prompt && <p class="item-prompt">{prompt}</p>}
                  <p class={`status status-${g.status}`}>
                    {statusText(g)}
                    {g.status === 'error' && g.error?.message ? `: ${g.error.message}` : ''}
                    {g.video?.duration ? ` · ${g.video.duration} s, ${g.video.width}×${g.video.height}` : ''}
                  </p>
                  <div class="item-actions">
                    <button type="button" class="secondary small" onClick={() => onOpen(g)} aria-label={`Open ${g.id}`}>
                      Open
                    </button>
                    <button type="button" class="secondary small" onClick={() => onAgain(g.id)} aria-label={`Again: load the settings of ${g.id} into the form`}>
                      Again
                    </button>
                    {!isDone(g.status) && (
                      <button type="button" class="danger small" onClick={() => act(g, 'cancel')} aria-label={`Cancel ${g.id}`}>
                        Cancel
                      </button>
                    )}
                    {confirming === g.id ? (
                      <>
                        <button type="button" class="danger small" onClick={() => act(g, 'delete')} aria-label={`Yes, delete ${g.id} and its video`}>
                          Yes, delete
                        </button>
                        <button type="button" class="secondary small" onClick={() => setConfirming('')}>
                          Keep
                        </button>
                      </>
                    ) : (
                      <button type="button" class="secondary small" onClick={() => setConfirming(g.id)} aria-label={`Delete ${g.id}`}>
                        Delete
                      </button>
                    )}
                  </div>
                </div>
              </li>
            );
          })}
        </ul>
        <nav class="pager" aria-label="History pages">
          <button type="button" class="secondary" onClick={() => go('prev')} disabled={index === 0}>
            Previous
          </button>
          <span>Page {index + 1}</span>
          <button type="button" class="secondary" onClick={() => go('next')} disabled={!page?.hasMore || !page.next}>
            Next
          </button>
        </nav>
      </section>
    </main>
  );
}
