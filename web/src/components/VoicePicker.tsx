import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api, Param, Voice } from '../api';
import { hint, label } from '../params';

interface Props {
  p: Param;
  value: string;
  onChange: (v: string) => void;
  voices: Voice[];
  api: Api;
  error?: string;
  /** Whether there is speech text for the voice to speak. */
  active: boolean;
}

/** The voices as radio buttons, each with a short preview to play. */
export function VoicePicker({ p, value, onChange, voices, api, error, active }: Props) {
  const [playing, setPlaying] = useState('');
  const [loading, setLoading] = useState('');
  const [failed, setFailed] = useState('');
  const audio = useRef<HTMLAudioElement | null>(null);
  const cache = useRef(new Map<string, string>());

  useEffect(
    () => () => {
      audio.current?.pause();
      for (const u of cache.current.values()) URL.revokeObjectURL(u);
    },
    [],
  );

  const byName = new Map(voices.map((v) => [v.id, v]));
  const names = (p.enum ?? voices.map((v) => v.id)).map(String);
  for (const v of voices) if (!names.includes(v.id)) names.push(v.id);

  async function play(v: Voice) {
    if (playing === v.id) {
      audio.current?.pause();
      setPlaying('');
      return;
    }
    audio.current?.pause();
    setFailed('');
    try {
      let url = cache.current.get(v.id);
      if (!url) {
        setLoading(v.id);
        url = await api.blobURL(v.preview_url!);
        cache.current.set(v.id, url);
      }
      const a = audio.current ?? new Audio();
      audio.current = a;
      a.src = url;
      a.onended = () => setPlaying('');
      await a.play();
      setPlaying(v.id);
    } catch (err) {
      setFailed(`The preview of ${v.name ?? v.id} could not be played (${(err as Error).message})`);
      setPlaying('');
    } finally {
      setLoading('');
    }
  }

  const h = hint(p);
  const described = [`h-${p.name}`, error && `e-${p.name}`].filter(Boolean).join(' ');
  return (
    <fieldset
      class={`field voices${error ? ' invalid' : ''}`}
      id={`f-${p.name}`}
      role="radiogroup"
      aria-describedby={described}
      aria-invalid={error ? 'true' : undefined}
      tabIndex={-1}
    >
      <legend>{label(p)}</legend>
      <p id={`h-${p.name}`} class="hint">
        {h ? `${h} ` : ''}
        {active ? 'Speaks the speech text.' : 'Used only with speech text.'} Auto lets the seed pick one.
      </p>
      <div class="voice-grid">
        {names.map((name) => {
          const v = byName.get(name);
          return (
            <div class={`voice${value === name ? ' selected' : ''}`} key={name}>
              <input type="radio" id={`voice-${name}`} name={p.name} value={name} checked={value === name} onChange={() => onChange(name)} />
              <label for={`voice-${name}`}>{v?.name ?? name}</label>
              {v?.preview_url && (
                <button
                  type="button"
                  class="icon-button"
                  aria-label={`${playing === name ? 'Stop' : 'Play'} a preview of ${v.name ?? v.id}`}
                  aria-pressed={playing === name}
                  onClick={() => play(v)}
                  disabled={loading !== '' && loading !== name}
                >
                  <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
                    {playing === name ? <rect x="3" y="3" width="10" height="10" /> : <path d="M4 2.5v11l9-5.5z" />}
                  </svg>
                </button>
              )}
            </div>
          );
        })}
      </div>
      {failed && (
        <p class="error" role="alert">
          {failed}
        </p>
      )}
      {error && (
        <p id={`e-${p.name}`} class="error">
          {error}
        </p>
      )}
    </fieldset>
  );
}
