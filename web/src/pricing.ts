// The price of a request, from the model's pricing in GET /v2/models: what
// the server reserves at submit.

import type { Model } from './api';
import { SPEECH, utf8Bytes, type Request } from './params';

export interface PriceLine {
  label: string;
  credits: number;
}

export interface Price {
  credits: number;
  usd: number;
  lines: PriceLine[];
}

export const DEFAULT_CREDITS_PER_USD = 2_000_000;

export function speechChunks(text: string, chunkBytes: number): number {
  return chunkBytes > 0 ? Math.ceil(utf8Bytes(text) / chunkBytes) : 0;
}

const EXTRA_LABELS: Record<string, string> = { audio: 'sound', multi_clip: 'multi-clip' };

/**
 * The price of req: per video, or per second at its resolution times its
 * duration; plus each extra switched on (a switch generate_X_switch is
 * priced by extra_credits_per_second.X) times the duration; plus the
 * speech's chunks.
 */
export function priceOf(m: Model, req: Request): Price | undefined {
  const p = m.pricing;
  if (!p) return undefined;
  const lines: PriceLine[] = [];
  const duration = typeof req.duration === 'number' ? req.duration : (m.durations?.[0] ?? 5);
  if (p.credits_per_video !== undefined) {
    lines.push({ label: 'per video', credits: p.credits_per_video });
  } else if (p.credits_per_second) {
    const res = typeof req.resolution === 'string' ? req.resolution : '720p';
    const rate = p.credits_per_second[res];
    if (rate === undefined) return undefined;
    lines.push({ label: `${duration} s at ${res} × ${fmtCredits(rate)}`, credits: rate * duration });
  }
  for (const [extra, rate] of Object.entries(p.extra_credits_per_second ?? {})) {
    if (req[`generate_${extra}_switch`] === true) {
      lines.push({ label: `${EXTRA_LABELS[extra] ?? extra.replace(/_/g, ' ')}: ${duration} s × ${fmtCredits(rate)}`, credits: rate * duration });
    }
  }
  const speech = req[SPEECH];
  if (typeof speech === 'string' && speech !== '' && p.credits_per_speech_chunk) {
    const bytes = p.speech_chunk_bytes ?? 15;
    const n = speechChunks(speech, bytes);
    lines.push({ label: `speech: ${n} chunk${n === 1 ? '' : 's'} of ${bytes} bytes × ${fmtCredits(p.credits_per_speech_chunk)}`, credits: n * p.credits_per_speech_chunk });
  }
  const credits = lines.reduce((a, l) => a + l.credits, 0);
  return { credits, usd: credits / (p.credits_per_usd || DEFAULT_CREDITS_PER_USD), lines };
}

export const fmtCredits = (n: number) => n.toLocaleString('en-US');

export function fmtUSD(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 1) return `$${usd.toFixed(4).replace(/0+$/, '').replace(/\.$/, '')}`;
  return `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
