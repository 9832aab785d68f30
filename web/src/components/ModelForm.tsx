import { useEffect } from 'preact/hooks';
import type { Api, Model, Param, Scalar, Voice } from '../api';
import { mediaOfType, readFile, typeOf } from '../media';
import {
  aspectFrame,
  codePoints,
  durationsAt,
  hint,
  isMedia,
  label,
  oneOfGroups,
  optionLabel,
  paramsOf,
  SPEAKER,
  SPEECH,
  utf8Bytes,
  valueOf,
  type MediaValue,
  type Request,
  type Value,
  type Values,
} from '../params';
import { fmtCredits, fmtUSD, priceOf, speechChunks } from '../pricing';
import { fieldId, MediaField } from './MediaField';
import { VoicePicker } from './VoicePicker';

export interface Banner {
  kind: 'error' | 'wait' | 'info';
  title: string;
  message?: string;
  fields?: { field: string; message: string }[];
  requestId?: string;
  /** Found by the form's own checks: it goes once its fields are fixed. */
  local?: boolean;
}

interface Props {
  api: Api;
  models: Model[];
  model: Model;
  onModel: (id: string) => void;
  values: Values;
  onValues: (f: (v: Values) => Values) => void;
  errors: Record<string, string>;
  onErrors: (f: (e: Record<string, string>) => Record<string, string>) => void;
  voices: Voice[];
  request: Request;
  onSubmit: () => void;
  submitting: boolean;
  banner?: Banner;
  waitSeconds: number;
  note?: string;
}

export function ModelForm(props: Props) {
  const { model, values, errors, request } = props;
  const params = paramsOf(model);
  const groups = oneOfGroups(model);
  const price = priceOf(model, request);

  function set(name: string, v: Value) {
    props.onValues((old) => {
      const next = { ...old, [name]: v };
      // A resolution whose durations leave out the chosen one moves it to the longest allowed.
      if (name === 'resolution') {
        const d = params.find((q) => q.name === 'duration');
        const allowed = typeof v === 'string' ? durationsAt(model, v) : undefined;
        if (d && allowed) {
          const cur = Number(valueOf(d, next));
          if (!allowed.includes(cur)) next.duration = String(Math.max(...allowed));
        }
      }
      return next;
    });
    if (errors[name]) props.onErrors((e) => ({ ...e, [name]: '' }));
    for (const g of groups) if (g.includes(name)) props.onErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !g.includes(k))));
  }

  // Paste a file anywhere on the page: it goes to the file field that has
  // the focus, or else to the first one of its kind.
  useEffect(() => {
    async function onPaste(e: ClipboardEvent) {
      const file = e.clipboardData?.files?.[0];
      if (!file) return;
      const media = mediaOfType(typeOf(file));
      const focused = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('[data-media-field]');
      const target =
        params.find((p) => p.type === 'url' && p.name === focused?.dataset.mediaField) ??
        params.find((p) => p.type === 'url' && (p.media ?? 'image') === media && !isMedia(valueOf(p, values))) ??
        params.find((p) => p.type === 'url' && (p.media ?? 'image') === media);
      if (!target) return;
      e.preventDefault();
      set(target.name, await readFile(file, target.media));
    }
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  });

  const resolution = typeof request.resolution === 'string' ? request.resolution : undefined;
  const firstImage = params.find((p) => p.type === 'url' && (p.media ?? 'image') === 'image');
  const speechText = typeof request[SPEECH] === 'string' ? (request[SPEECH] as string) : '';
  const busy = props.submitting || props.waitSeconds > 0;

  function oneOfNote(name: string): string | undefined {
    const g = groups.find((g) => g.includes(name));
    if (!g) return undefined;
    const others = g.filter((f) => f !== name).map((f) => label(f).toLowerCase());
    return `Exactly one of ${g.map((f) => label(f).toLowerCase()).join(' or ')} is needed: give this or the ${others.join(' or the ')}, not both.`;
  }

  function field(p: Param) {
    const v = valueOf(p, values);
    const err = errors[p.name] || undefined;
    const note = oneOfNote(p.name);
    if (p.type === 'url') {
      return (
        <MediaField
          key={p.name}
          p={p}
          value={v}
          onChange={(mv: MediaValue | undefined) => set(p.name, mv)}
          error={err}
          resolution={resolution}
          framesOutput={p === firstImage && model.kind !== 'lip-sync'}
          note={note}
        />
      );
    }
    if (p.name === SPEAKER && p.enum) {
      return (
        <VoicePicker
          key={p.name}
          p={p}
          value={typeof v === 'string' ? v : ''}
          onChange={(s) => set(p.name, s)}
          voices={props.voices}
          api={props.api}
          error={err}
          active={speechText !== ''}
        />
      );
    }
    if (p.type === 'boolean') return <Checkbox key={p.name} p={p} value={v === true} onChange={(b) => set(p.name, b)} error={err} model={model} />;
    if (p.enum) {
      const allowed = p.name === 'duration' ? durationsAt(model, resolution) : undefined;
      const extra = p.name === 'aspect_ratio' && typeof v === 'string' && resolution ? aspectFrame(v, resolution) : undefined;
      return (
        <Choice
          key={p.name}
          p={p}
          value={typeof v === 'string' ? v : ''}
          onChange={(s) => set(p.name, s)}
          error={err}
          allowed={allowed}
          resolution={resolution}
          after={extra ? `The video is ${extra.width}×${extra.height} at ${resolution}.` : undefined}
        />
      );
    }
    return <TextField key={p.name} p={p} value={typeof v === 'string' ? v : ''} onChange={(s) => set(p.name, s)} error={err} model={model} note={note} />;
  }

  return (
    <form
      class="card model-form"
      noValidate
      aria-labelledby="form-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (!busy) props.onSubmit();
      }}
    >
      <h2 id="form-title">New video</h2>
      <div class="field">
        <label for="model">Model</label>
        <select id="model" value={model.id} onChange={(e) => props.onModel(e.currentTarget.value)} aria-describedby="model-hint">
          {props.models.map((m) => (
            <option key={m.id} value={m.id}>
              {m.id}
            </option>
          ))}
        </select>
        <p id="model-hint" class="hint">
          {kindText(model)}
          {model.engine && model.engine !== 'builtin' ? ` Rendered by the ${model.engine} engine.` : ''}
        </p>
      </div>
      {props.note && (
        <p class="notice" role="status">
          {props.note}
        </p>
      )}
      <div class="fields">{params.map(field)}</div>
      <section class="price" aria-labelledby="price-title">
        <h3 id="price-title">Price</h3>
        {price ? (
          <>
            <p class="price-total" id="price-total">
              <strong>{fmtCredits(price.credits)} credits</strong> <span class="usd">({fmtUSD(price.usd)})</span>
            </p>
            <ul class="price-lines">
              {price.lines.map((l) => (
                <li key={l.label}>
                  {l.label}: {fmtCredits(l.credits)}
                </li>
              ))}
            </ul>
            <p class="hint">Reserved when you submit; refunded if the generation fails or is cancelled.</p>
          </>
        ) : (
          <p class="hint">This model's price is not listed.</p>
        )}
      </section>
      {props.banner && (!props.banner.local || props.banner.fields?.some((f) => errors[f.field])) && (
        <BannerView
          banner={props.banner.local ? localBanner(props.banner.fields!.filter((f) => errors[f.field])) : props.banner}
          waitSeconds={props.waitSeconds}
        />
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy} aria-describedby={price ? 'price-total' : undefined}>
          {props.submitting ? 'Submitting…' : props.waitSeconds > 0 ? `Wait ${props.waitSeconds} s` : 'Generate'}
        </button>
      </div>
    </form>
  );
}

/** The banner of the form's own checks, for the fields still wrong. */
export function localBanner(fields: { field: string; message: string }[]): Banner {
  return {
    kind: 'error',
    local: true,
    title: fields.length === 1 ? 'One field needs fixing before submitting' : `${fields.length} fields need fixing before submitting`,
    fields,
  };
}

function kindText(m: Model): string {
  const d = m.durations?.length ? ` Lengths: ${m.durations.join(', ')} s.` : '';
  switch (m.kind) {
    case 'image-to-video':
      return `Animates a picture as the prompt says.${d}`;
    case 'text-to-video':
      return `Makes the video from the prompt alone.${d}`;
    case 'transition':
      return `Moves from a first picture to a last one.${d}`;
    case 'lip-sync':
      return 'Re-voices a video of a person talking: the mouth follows the new speech. The video keeps its length.';
    default:
      return `${m.kind}.${d}`;
  }
}

export function BannerView({ banner, waitSeconds }: { banner: Banner; waitSeconds: number }) {
  return (
    <div class={`banner banner-${banner.kind}`} role="alert">
      <p class="banner-title">{banner.title}</p>
      {banner.message && <p>{banner.message}</p>}
      {banner.kind === 'wait' && (
        <p class="countdown">{waitSeconds > 0 ? `Try again in ${waitSeconds} s.` : 'You can try again now.'}</p>
      )}
      {banner.fields && banner.fields.length > 0 && (
        <ul>
          {banner.fields.map((f) => (
            <li key={f.field}>
              <button type="button" class="link" onClick={() => focusField(f.field)}>
                {label(f.field)}
              </button>
              : {f.message}
            </li>
          ))}
        </ul>
      )}
      {banner.requestId && <p class="hint">Request id {banner.requestId}</p>}
    </div>
  );
}

export function focusField(name: string) {
  // A url field whose URL was typed: its URL box, not its file input.
  const typed = document.getElementById(`${fieldId(name)}-url`) as HTMLInputElement | null;
  const el = (typed?.value ? typed : null) ?? document.getElementById(fieldId(name)) ?? document.getElementById(`${fieldId(name)}-0`);
  if (!el) return;
  el.scrollIntoView({ block: 'center' });
  (el.matches('fieldset') ? (el.querySelector<HTMLElement>('input:checked, input:not([disabled])') ?? el) : el).focus();
}

function describedBy(p: Param, ...more: (string | false | undefined)[]) {
  return [hint(p) && `h-${p.name}`, ...more].filter(Boolean).join(' ') || undefined;
}

function Checkbox({ p, value, onChange, error, model }: { p: Param; value: boolean; onChange: (b: boolean) => void; error?: string; model: Model }) {
  const extra = p.name.match(/^generate_(.+)_switch$/)?.[1];
  const rate = extra ? model.pricing?.extra_credits_per_second?.[extra] : undefined;
  const h = hint(p);
  return (
    <div class={`field compact check${error ? ' invalid' : ''}`}>
      <div class="check-row">
        <input
          type="checkbox"
          id={fieldId(p.name)}
          checked={value}
          onChange={(e) => onChange(e.currentTarget.checked)}
          aria-describedby={describedBy(p, error && `e-${p.name}`)}
          aria-invalid={error ? 'true' : undefined}
        />
        <label for={fieldId(p.name)}>{label(p)}</label>
      </div>
      {(h || rate) && (
        <p id={`h-${p.name}`} class="hint">
          {h}
          {rate ? ` Adds ${fmtCredits(rate)} credits a second.` : ''}
        </p>
      )}
      {error && (
        <p id={`e-${p.name}`} class="error">
          {error}
        </p>
      )}
    </div>
  );
}

function Choice(props: { p: Param; value: string; onChange: (s: string) => void; error?: string; allowed?: number[]; resolution?: string; after?: string }) {
  const { p, value, error, allowed } = props;
  const options = p.enum ?? [];
  const optional = !p.required && p.default === undefined;
  const disabledNote = allowed && options.some((o) => !allowed.includes(Number(o))) ? `At ${props.resolution}: ${allowed.map((a) => optionLabel(p, a)).join(', ')} only.` : undefined;
  const h = hint(p);
  const hintText = [h, disabledNote, props.after].filter(Boolean).join(' ');
  const hintId = hintText ? `h-${p.name}` : undefined;
  const described = [hintId, error && `e-${p.name}`].filter(Boolean).join(' ') || undefined;
  const errorP = error && (
    <p id={`e-${p.name}`} class="error">
      {error}
    </p>
  );
  const hintP = hintText && (
    <p id={hintId} class="hint">
      {hintText}
    </p>
  );
  // A few short options read best as a row of radio buttons (resolution,
  // duration); longer ones, or more of them, as a select.
  if (options.length <= 4 && !optional && options.every((o) => optionLabel(p, o).length <= 6)) {
    return (
      <fieldset class={`field compact choice${error ? ' invalid' : ''}`} id={fieldId(p.name)} tabIndex={-1} role="radiogroup" aria-describedby={described} aria-invalid={error ? 'true' : undefined}>
        <legend>{label(p)}</legend>
        <div class="segmented">
          {options.map((o: Scalar, i) => {
            const off = allowed !== undefined && !allowed.includes(Number(o));
            return (
              <span class="seg" key={String(o)}>
                <input
                  type="radio"
                  id={`${fieldId(p.name)}-${i}`}
                  name={p.name}
                  value={String(o)}
                  checked={value === String(o)}
                  disabled={off}
                  onChange={() => props.onChange(String(o))}
                />
                <label for={`${fieldId(p.name)}-${i}`}>{optionLabel(p, o)}</label>
              </span>
            );
          })}
        </div>
        {hintP}
        {errorP}
      </fieldset>
    );
  }
  return (
    <div class={`field compact${error ? ' invalid' : ''}`}>
      <label for={fieldId(p.name)}>{label(p)}</label>
      <select id={fieldId(p.name)} value={value} onChange={(e) => props.onChange(e.currentTarget.value)} aria-describedby={described} aria-invalid={error ? 'true' : undefined}>
        {optional && <option value="">None</option>}
        {options.map((o) => (
          <option key={String(o)} value={String(o)} disabled={allowed !== undefined && !allowed.includes(Number(o))}>
            {optionLabel(p, o)}
          </option>
        ))}
      </select>
      {hintP}
      {errorP}
    </div>
  );
}

function randomSeed(): number {
  const a = new Uint32Array(1);
  crypto.getRandomValues(a);
  return a[0] % 2147483648;
}

function TextField({ p, value, onChange, error, model, note }: { p: Param; value: string; onChange: (s: string) => void; error?: string; model: Model; note?: string }) {
  const id = fieldId(p.name);
  const long = (p.max_length ?? 0) >= 200;
  const h = hint(p);
  const n = codePoints(value);
  const over = p.max_length !== undefined && n > p.max_length;
  const isSeed = p.type === 'integer' && p.name === 'seed';
  const counter = p.max_length !== undefined ? `c-${p.name}` : undefined;
  const described = [h && `h-${p.name}`, note && `n-${p.name}`, counter, error && `e-${p.name}`].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name: p.name,
    value,
    onInput: (e: Event) => onChange((e.currentTarget as HTMLInputElement).value),
    'aria-describedby': described,
    'aria-invalid': error || over ? ('true' as const) : undefined,
    'aria-required': p.required ? ('true' as const) : undefined,
    spellcheck: p.type === 'string',
  };
  const pricing = model.pricing;
  const speech = p.name === SPEECH && value !== '' && pricing?.credits_per_speech_chunk ? pricing : undefined;
  const chunks = speech ? speechChunks(value, speech.speech_chunk_bytes ?? 15) : 0;
  return (
    <div class={`field${p.type === 'integer' ? ' compact' : ''}${error ? ' invalid' : ''}`}>
      <label for={id}>
        {label(p)} {p.required && <span class="req">(required)</span>}
      </label>
      {h && (
        <p id={`h-${p.name}`} class="hint">
          {h}
        </p>
      )}
      {note && (
        <p id={`n-${p.name}`} class="hint one-of">
          {note}
        </p>
      )}
      {p.type === 'integer' ? (
        <div class="row">
          <input {...common} type="text" inputMode="numeric" autoComplete="off" placeholder={isSeed ? 'random' : undefined} />
          {isSeed && (
            <button type="button" class="secondary" aria-label="Random seed" title="A random seed, 0..2,147,483,647" onClick={() => onChange(String(randomSeed()))}>
              <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false" class="dice">
                <rect x="1.5" y="1.5" width="13" height="13" rx="3" fill="none" stroke="currentColor" stroke-width="1.5" />
                <circle cx="5" cy="5" r="1.3" />
                <circle cx="8" cy="8" r="1.3" />
                <circle cx="11" cy="11" r="1.3" />
              </svg>{' '}
              Random
            </button>
          )}
        </div>
      ) : long ? (
        <textarea {...common} rows={p.name === 'prompt' ? 4 : 2} />
      ) : (
        <input {...common} type="text" />
      )}
      {p.max_length !== undefined && (
        <p id={counter} class={`counter${over ? ' over' : ''}`}>
          {n.toLocaleString('en-US')} / {p.max_length.toLocaleString('en-US')} characters
          {p.name === SPEECH && value !== '' && (
            <>
              {' · '}
              {utf8Bytes(value).toLocaleString('en-US')} bytes (UTF-8)
              {speech && (
                <>
                  {' → '}
                  {chunks} chunk{chunks === 1 ? '' : 's'} of {speech.speech_chunk_bytes ?? 15} bytes = {fmtCredits(chunks * speech.credits_per_speech_chunk!)} credits (
                  {fmtUSD((chunks * speech.credits_per_speech_chunk!) / (speech.credits_per_usd || 2_000_000))})
                </>
              )}
            </>
          )}
        </p>
      )}
      {error && (
        <p id={`e-${p.name}`} class="error">
          {error}
        </p>
      )}
    </div>
  );
}
