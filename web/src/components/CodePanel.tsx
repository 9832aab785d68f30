import { useEffect, useRef, useState } from 'preact/hooks';
import { LANGS, snippet, type Lang } from '../code';
import type { Request } from '../params';

interface Props {
  request: Request;
  /** The request was sent as it is (else it is the form's, not yet sent). */
  sent: boolean;
}

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain http on another host is not a secure context: no Clipboard API.
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.className = 'offscreen';
  document.body.appendChild(ta);
  ta.select();
  const ok = document.execCommand('copy');
  ta.remove();
  if (!ok) throw new Error('the browser refused to copy');
}

/** The request as curl, Python and Go, with a copy button for each. */
export function CodePanel({ request, sent }: Props) {
  const [lang, setLang] = useState<Lang>('curl');
  const [copied, setCopied] = useState('');
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  const origin = location.origin;
  const shown = snippet(lang, request, origin, true);
  const name = LANGS.find((l) => l.id === lang)!.label;

  // A new request: what was copied is no longer what is shown.
  useEffect(() => setCopied(''), [request]);

  async function copy() {
    try {
      await copyText(snippet(lang, request, origin, false));
      setCopied(`Copied the ${name} code.`);
    } catch (err) {
      setCopied(`Could not copy: ${(err as Error).message}`);
    }
  }

  function onKey(e: KeyboardEvent, i: number) {
    let j = i;
    if (e.key === 'ArrowRight') j = (i + 1) % LANGS.length;
    else if (e.key === 'ArrowLeft') j = (i + LANGS.length - 1) % LANGS.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = LANGS.length - 1;
    else return;
    e.preventDefault();
    setLang(LANGS[j].id);
    setCopied('');
    tabs.current[j]?.focus();
  }

  const abbreviated = shown.includes('more characters in the copied text]');
  return (
    <section class="card code" aria-labelledby="code-title">
      <h2 id="code-title">Copy as code</h2>
      <p class="hint">
        {sent ? 'The request as it was sent' : 'The request the form makes now'}, to run from a script. The key is read from
        <code> STILLMOTION_API_KEY</code>.
      </p>
      <div role="tablist" aria-label="Language" class="tabs">
        {LANGS.map((l, i) => (
          <button
            key={l.id}
            ref={(el) => {
              tabs.current[i] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${l.id}`}
            aria-selected={lang === l.id}
            aria-controls="code-panel"
            tabIndex={lang === l.id ? 0 : -1}
            onClick={() => {
              setLang(l.id);
              setCopied('');
            }}
            onKeyDown={(e) => onKey(e, i)}
          >
            {l.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="code-panel" aria-labelledby={`tab-${lang}`}>
        <pre class="snippet" tabIndex={0} aria-label={`${name} code`}>
          <code data-lang={lang}>{shown}</code>
        </pre>
        {abbreviated && <p class="hint">Long data: URIs are shortened here; the copied text has them whole.</p>}
        <div class="row">
          <button type="button" class="primary" onClick={copy}>
            Copy as {name}
          </button>
          <span class="copied" role="status">
            {copied}
          </span>
        </div>
      </div>
    </section>
  );
}
