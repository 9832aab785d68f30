import { useState } from 'preact/hooks';
import type { Media, Param } from '../api';
import { ACCEPT, readFile } from '../media';
import { cropOf, hint, isMedia, label, mb, outputFrame, type MediaValue, type Value } from '../params';

interface Props {
  p: Param;
  value: Value;
  onChange: (v: MediaValue | undefined) => void;
  error?: string;
  /** The resolution the frame is rendered at, for an image's output size. */
  resolution?: string;
  /** Whether the output frame follows this image (the first frame does). */
  framesOutput: boolean;
  note?: string;
}

const NOUN: Record<Media, string> = { image: 'an image', video: 'a video', audio: 'an audio file' };

export const fieldId = (name: string) => `f-${name}`;

/**
 * A url parameter: drop a file, paste one, pick one with the file input
 * (the drop zone is that input), or type a URL. A file becomes a data: URI.
 */
export function MediaField({ p, value, onChange, error, resolution, framesOutput, note }: Props) {
  const [dragging, setDragging] = useState(false);
  const [reading, setReading] = useState(false);
  const [readError, setReadError] = useState('');
  const media: Media = p.media ?? 'image';
  const id = fieldId(p.name);
  const v = isMedia(value) ? value : undefined;
  const h = hint(p);
  const shownError = error || readError;
  const described = [h && `h-${p.name}`, note && `n-${p.name}`, shownError && `e-${p.name}`].filter(Boolean).join(' ') || undefined;

  async function take(files: FileList | null | undefined) {
    const file = files?.[0];
    if (!file) return;
    setReading(true);
    setReadError('');
    try {
      if (v?.preview) URL.revokeObjectURL(v.preview);
      onChange(await readFile(file, media));
    } catch (err) {
      setReadError(`The file could not be read: ${(err as Error).message}`);
    } finally {
      setReading(false);
    }
  }

  function clear() {
    if (v?.preview) URL.revokeObjectURL(v.preview);
    onChange(undefined);
  }

  return (
    <div class={`field media-field${shownError ? ' invalid' : ''}`} data-media-field={p.name} data-media={media}>
      <div class="label" id={`l-${p.name}`}>
        {label(p)} {p.required && <span class="req">(required)</span>}
      </div>
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
      <label
        class={`drop${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          take(e.dataTransfer?.files);
        }}
      >
        <input
          id={id}
          type="file"
          class="file-input"
          accept={ACCEPT[media]}
          aria-labelledby={`l-${p.name} d-${p.name}`}
          aria-describedby={described}
          aria-invalid={shownError ? 'true' : undefined}
          onChange={(e) => {
            take(e.currentTarget.files);
            e.currentTarget.value = '';
          }}
        />
        <span id={`d-${p.name}`} class="drop-text">
          {reading ? 'Reading…' : `Drop ${NOUN[media]} here, paste one, or `}
          {!reading && <span class="fake-button">choose a file</span>}
        </span>
      </label>
      <div class="url-row">
        <label for={`${id}-url`}>or its URL</label>
        <input
          id={`${id}-url`}
          type="url"
          inputMode="url"
          placeholder="https://… or data:…"
          spellcheck={false}
          value={v?.source === 'url' ? v.url : ''}
          aria-describedby={described}
          aria-invalid={shownError ? 'true' : undefined}
          onInput={(e) => {
            const url = e.currentTarget.value;
            if (v?.preview) URL.revokeObjectURL(v.preview);
            onChange(url ? { source: 'url', url } : undefined);
          }}
        />
      </div>
      {shownError && (
        <p id={`e-${p.name}`} class="error">
          {shownError}
        </p>
      )}
      {v?.source === 'file' && <Preview v={v} media={media} resolution={resolution} framesOutput={framesOutput} onClear={clear} />}
      {v?.source === 'url' && v.url.startsWith('http') && <p class="hint">The server fetches this URL when it renders; it is not previewed here.</p>}
    </div>
  );
}

function Preview({ v, media, resolution, framesOutput, onClear }: { v: MediaValue; media: Media; resolution?: string; framesOutput: boolean; onClear: () => void }) {
  const size = v.size !== undefined ? mb(v.size) : '';
  const dims = v.width && v.height ? `${v.width}×${v.height}` : '';
  const length = v.duration !== undefined ? `${v.duration.toFixed(1)} s` : '';
  const facts = [dims, length, size].filter(Boolean).join(', ');
  const frame = framesOutput && v.width && v.height && resolution ? outputFrame(v.width, v.height, resolution) : undefined;
  const crop = v.width && v.height ? cropOf(v.width, v.height) : undefined;
  const cropped = crop && (crop.w < 1 || crop.h < 1);
  return (
    <figure class={`preview preview-${media}`}>
      {media === 'image' && v.preview && (
        <div class="frame-wrap">
          <img src={v.preview} alt={`Preview of ${v.name ?? 'the image'}`} />
          {frame && crop && (
            <div
              class="crop"
              aria-hidden="true"
              style={{ left: `${crop.x * 100}%`, top: `${crop.y * 100}%`, width: `${crop.w * 100}%`, height: `${crop.h * 100}%` }}
            >
              <span class="crop-label">
                {frame.width}×{frame.height}
              </span>
            </div>
          )}
        </div>
      )}
      {media === 'video' && v.preview && <video src={v.preview} controls muted preload="metadata" aria-label={`Preview of ${v.name ?? 'the video'}`} />}
      {media === 'audio' && v.preview && <audio src={v.preview} controls preload="metadata" aria-label={`Preview of ${v.name ?? 'the audio'}`} />}
      <figcaption>
        <span class="file-name">{v.name}</span>
        {facts && <span> ({facts})</span>}
        {frame && (
          <span class="frame-note">
            {' '}
            → video {frame.width}×{frame.height} at {resolution}
            {cropped ? ', cropped to the marked frame (the aspect ratio is kept within 9:16..16:9)' : ', the whole picture'}
          </span>
        )}
      </figcaption>
      <button type="button" class="secondary small" onClick={onClear}>
        Remove {v.name ? <span class="visually-hidden">{v.name}</span> : null}
      </button>
    </figure>
  );
}
