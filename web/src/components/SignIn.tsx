import { useState } from 'preact/hooks';
import { Api, ApiError } from '../api';

interface Props {
  onSignIn: (key: string) => void;
  notice?: string;
}

/** The key form: the key is checked against the server, then kept in this browser. */
export function SignIn({ onSignIn, notice }: Props) {
  const [key, setKey] = useState('');
  const [show, setShow] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    const k = key.trim();
    if (!k) {
      setError('Enter an API key');
      return;
    }
    setBusy(true);
    setError('');
    try {
      await new Api(k).models();
      onSignIn(k);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : `The server could not be reached: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="signin" tabIndex={-1}>
      <div class="card signin-card">
        <h1>
          stillmotion <span class="brand-sub">studio</span>
        </h1>
        <p>Make videos from pictures, see what the renderer chose, and copy the request as code.</p>
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        <form onSubmit={submit} noValidate>
          <div class="field">
            <label for="api-key">API key</label>
            <div class="row">
              <input
                id="api-key"
                name="api-key"
                type={show ? 'text' : 'password'}
                autoComplete="current-password"
                spellcheck={false}
                value={key}
                onInput={(e) => setKey(e.currentTarget.value)}
                aria-invalid={error ? 'true' : undefined}
                aria-describedby={error ? 'api-key-hint api-key-error' : 'api-key-hint'}
                required
              />
              <button type="button" class="secondary" aria-pressed={show} onClick={() => setShow(!show)}>
                {show ? 'Hide' : 'Show'}
              </button>
            </div>
            <p id="api-key-hint" class="hint">
              Kept in this browser only (localStorage) until you sign out. An operator creates keys with
              <code> stillmotion keys create</code>.
            </p>
            {error && (
              <p id="api-key-error" class="error" role="alert">
                {error}
              </p>
            )}
          </div>
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Checking…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}
