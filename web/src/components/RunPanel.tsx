import { useEffect, useRef, useState } from 'preact/hooks';
import { isDone, isGenerating, playableURL, type Generation } from '../api';
import { mb } from '../params';
import { fmtCredits, fmtUSD } from '../pricing';

export interface Run {
  id: string;
  gen?: Generation;
  /** Where the request came from: submitted here, or opened from the history. */
  origin: 'submitted' | 'opened';
  watchError?: string;
  cancelError?: string;
}

interface Props {
  run: Run;
  onCancel: () => void;
  cancelling: boolean;
  focusOnMount: boolean;
}

export function statusText(g: Generation | undefined): string {
  if (!g) return 'Submitted';
  switch (g.status) {
    case 'queued':
    case 'waiting':
      return g.queue_position ? `Queued: position ${g.queue_position} in the queue` : 'Queued';
    case 'generating':
    case 'active':
      return `Generating: ${Math.round(g.progress ?? 0)}%`;
    case 'completed':
    case 'succeeded':
      return 'Completed';
    case 'error':
      return g.error?.name === 'cancelled' ? 'Cancelled' : `Failed${g.error?.name ? ` (${g.error.name})` : ''}`;
    default:
      return g.status;
  }
}

/** Splits a plan into its clauses ("zoom in, slow; light golden hour; voice Liam"). */
function clauses(plan: string): string[] {
  return plan
    .split(/;\s+(?![^(]*\))/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function RunPanel({ run, onCancel, cancelling, focusOnMount }: Props) {
  const g = run.gen;
  const heading = useRef<HTMLHeadingElement>(null);
  const [started] = useState(() => Date.now());
  const [now, setNow] = useState(Date.now());
  const running = !isDone(g?.status);

  useEffect(() => {
    if (focusOnMount) heading.current?.focus();
  }, [run.id]);

  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [running]);

  const plan = g?.plan ?? g?.video?.plan;
  const warnings = g?.video?.warnings ?? [];
  const v = g?.video;
  const src = v?.url ? playableURL(v.url) : undefined;
  const progress = isGenerating(g?.status) ? Math.round(g.progress ?? 0) : g?.status === 'completed' || g?.status === 'succeeded' ? 100 : 0;
  const usage = g?.meta?.usage;

  return (
    <section class="card run" aria-labelledby="run-title" data-status={g?.status ?? 'submitted'}>
      <h2 id="run-title" ref={heading} tabIndex={-1}>
        {run.origin === 'submitted' ? 'Your video' : 'From the history'}
      </h2>
      <p class="run-id">
        Generation <code>{run.id}</code>
      </p>
      <div class="status-block">
        <p class={`status status-${g?.status ?? 'queued'}`} aria-live="polite" aria-atomic="true" id="run-status">
          {statusText(g)}
        </p>
        {running && (
          <>
            <progress
              max={100}
              value={isGenerating(g?.status) ? progress : undefined}
              aria-labelledby="run-status"
              class="bar"
            />
            <p class="hint">
              {Math.round((now - started) / 1000)} s since {run.origin === 'submitted' ? 'you submitted it' : 'you opened it'}. Live from the server's event stream.
            </p>
          </>
        )}
        {g?.status === 'error' && g.error && (
          <p class="error" role="alert">
            {g.error.message || g.error.name}
          </p>
        )}
        {run.watchError && (
          <p class="error" role="alert">
            {run.watchError}
          </p>
        )}
        {run.cancelError && (
          <p class="error" role="alert">
            {run.cancelError}
          </p>
        )}
        {running && (
          <button type="button" class="danger" onClick={onCancel} disabled={cancelling}>
            {cancelling ? 'Cancelling…' : 'Cancel generation'}
          </button>
        )}
      </div>
      {plan && (
        <section class="plan" aria-labelledby="plan-title">
          <h3 id="plan-title">What the renderer chose</h3>
          <ul class="plan-list">
            {clauses(plan).map((c, i) => (
              <li key={i}>{c}</li>
            ))}
          </ul>
        </section>
      )}
      {warnings.length > 0 && (
        <section class="warnings" aria-labelledby="warnings-title">
          <h3 id="warnings-title">Warnings</h3>
          <ul>
            {warnings.map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ul>
        </section>
      )}
      {src && (
        <div class="player">
          <video
            controls
            playsInline
            preload="auto"
            src={src}
            width={v?.width}
            height={v?.height}
            aria-label={`The generated video${v?.duration ? `, ${v.duration} seconds` : ''}`}
          />
          <p class="video-facts">
            {[v?.width && v?.height ? `${v.width}×${v.height}` : '', v?.duration ? `${v.duration} s` : '', v?.fps ? `${v.fps} fps` : '', v?.has_audio === false ? 'no sound' : v?.has_audio ? 'with sound' : '', v?.file_size ? mb(v.file_size) : '']
              .filter(Boolean)
              .join(' · ')}
          </p>
          <a class="button primary" href={src} download={v?.file_name ?? `${run.id}.mp4`}>
            Download MP4
          </a>
        </div>
      )}
      {g?.status === 'error' ? (
        <p class="hint usage">Not charged: a failed or cancelled generation is refunded.</p>
      ) : (
        usage &&
        usage.credits_used !== undefined && (
          <p class="hint usage">
            {isDone(g?.status) ? 'Charged' : 'Reserved'}: {fmtCredits(usage.credits_used)} credits ({fmtUSD(usage.usd_spent ?? 0)})
          </p>
        )
      )}
    </section>
  );
}
