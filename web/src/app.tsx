import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api, ApiError, isDone, type Balance, type Generation, type Model, type Voice } from './api';
import { CodePanel } from './components/CodePanel';
import { History } from './components/History';
import { focusField, localBanner, ModelForm, type Banner } from './components/ModelForm';
import { RunPanel, type Run } from './components/RunPanel';
import { SignIn } from './components/SignIn';
import { fromDataURI } from './media';
import { buildRequest, isMedia, label, paramsOf, validate, type Request, type Value, type Values } from './params';
import { fmtCredits, fmtUSD } from './pricing';
import { forget, keepRequest, keptRequest, loadKey, saveKey } from './storage';

type Route = 'create' | 'history';

function routeOf(hash: string): Route | undefined {
  if (hash === '#/history') return 'history';
  if (hash === '' || hash === '#' || hash === '#/') return 'create';
  return undefined; // an in-page link such as #main
}

export function App() {
  const [key, setKey] = useState(loadKey);
  const [notice, setNotice] = useState('');
  const api = useMemo(() => (key ? new Api(key) : null), [key]);

  const signOut = useCallback((why?: string) => {
    forget();
    setKey('');
    setNotice(why ?? 'Signed out: the key and the requests kept in this browser are forgotten.');
  }, []);

  if (!api) {
    return (
      <SignIn
        notice={notice}
        onSignIn={(k) => {
          saveKey(k);
          setNotice('');
          setKey(k);
        }}
      />
    );
  }
  return <Studio key={key} api={api} onSignOut={signOut} />;
}

function Studio({ api, onSignOut }: { api: Api; onSignOut: (why?: string) => void }) {
  const [route, setRoute] = useState<Route>(() => routeOf(location.hash) ?? 'create');
  const [models, setModels] = useState<Model[] | null>(null);
  const [loadError, setLoadError] = useState('');
  const [voices, setVoices] = useState<Voice[]>([]);
  const [balance, setBalance] = useState<Balance | null | undefined>(undefined);
  const [modelId, setModelId] = useState('');
  const [values, setValues] = useState<Values>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [banner, setBanner] = useState<Banner | undefined>();
  const [submitting, setSubmitting] = useState(false);
  const [waitUntil, setWaitUntil] = useState(0);
  const [now, setNow] = useState(Date.now());
  const [run, setRun] = useState<Run | null>(null);
  const [sent, setSent] = useState<Request | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [formNote, setFormNote] = useState('');
  const submittedHere = useRef(false);

  const authError = useCallback(
    (err: unknown) => {
      if (err instanceof ApiError && err.status === 401) {
        onSignOut(`The server did not accept the key: ${err.message}`);
        return true;
      }
      return false;
    },
    [onSignOut],
  );

  useEffect(() => {
    const onHash = () => {
      const r = routeOf(location.hash);
      if (r) setRoute(r);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    document.title = route === 'history' ? 'History · stillmotion studio' : 'stillmotion studio';
  }, [route]);

  const refreshBalance = useCallback(() => {
    api
      .balance()
      .then(setBalance)
      .catch((err) => {
        if (!authError(err)) setBalance(null);
      });
  }, [api]);

  useEffect(() => {
    const ac = new AbortController();
    api
      .models(ac.signal)
      .then((ms) => {
        setModels(ms);
        setModelId((id) => (ms.some((m) => m.id === id) ? id : (ms[0]?.id ?? '')));
      })
      .catch((err) => {
        if (ac.signal.aborted || authError(err)) return;
        setLoadError(err instanceof ApiError ? err.message : `The server could not be reached: ${(err as Error).message}`);
      });
    api
      .voices(ac.signal)
      .then(setVoices)
      .catch(() => setVoices([]));
    refreshBalance();
    return () => ac.abort();
  }, [api]);

  // The countdown of a 429 or 503's Retry-After.
  useEffect(() => {
    if (waitUntil <= Date.now()) return;
    const t = setInterval(() => {
      setNow(Date.now());
      if (Date.now() >= waitUntil) clearInterval(t);
    }, 250);
    return () => clearInterval(t);
  }, [waitUntil]);
  const waitSeconds = Math.max(0, Math.ceil((waitUntil - now) / 1000));

  // Follows the current generation from its event stream.
  const runId = run?.id;
  useEffect(() => {
    if (!runId) return;
    const ac = new AbortController();
    api
      .watch(runId, (g) => setRun((r) => (r && r.id === g.id ? { ...r, gen: g } : r)), ac.signal)
      .then((g) => {
        if (g && isDone(g.status)) refreshBalance();
      })
      .catch((err) => {
        if (ac.signal.aborted || authError(err)) return;
        setRun((r) => (r && r.id === runId ? { ...r, watchError: err instanceof ApiError ? err.message : String(err) } : r));
      });
    return () => ac.abort();
  }, [api, runId]);

  const model = models?.find((m) => m.id === modelId);
  const request = useMemo(() => (model ? buildRequest(model, values) : null), [model, values]);

  function navigate(r: Route) {
    location.hash = r === 'history' ? '#/history' : '#/';
    setRoute(r);
  }

  async function submit() {
    if (!model || !request) return;
    setBanner(undefined);
    const errs = validate(model, values, request);
    const bad = Object.entries(errs).filter(([, m]) => m);
    setErrors(errs);
    if (bad.length) {
      setBanner(localBanner(bad.map(([field, message]) => ({ field, message }))));
      focusField(bad[0][0]);
      return;
    }
    setSubmitting(true);
    const body = JSON.stringify(request);
    try {
      const g = await api.submit(body);
      keepRequest(g.id, request);
      setSent(request);
      submittedHere.current = true;
      setRun({ id: g.id, gen: g, origin: 'submitted' });
      setFormNote('');
      refreshBalance();
    } catch (err) {
      if (authError(err)) return;
      if (err instanceof ApiError) {
        const known = new Set(paramsOf(model).map((p) => p.name));
        const fieldErrs: Record<string, string> = {};
        for (const f of err.fields) if (known.has(f.field)) fieldErrs[f.field] = fieldErrs[f.field] ? `${fieldErrs[f.field]}; ${f.message}` : f.message;
        setErrors(fieldErrs);
        const temporary = err.status === 429 || err.status === 503 || (err.status === 413 && err.retryAfter !== undefined);
        if (temporary) setWaitUntil(Date.now() + (err.retryAfter ?? 5) * 1000);
        setNow(Date.now());
        setBanner({
          kind: temporary ? 'wait' : 'error',
          title:
            err.status === 403
              ? 'Not enough credits'
              : err.status === 429
                ? 'Too many requests'
                : err.status === 503
                  ? 'The server is busy'
                  : `The server refused the request (${err.status})`,
          message: err.message,
          fields: err.fields,
          requestId: err.requestId,
        });
        const first = err.fields.find((f) => known.has(f.field));
        if (first) setTimeout(() => focusField(first.field), 0);
        if (err.status === 403) refreshBalance();
      } else {
        setBanner({ kind: 'error', title: 'The server could not be reached', message: (err as Error).message });
      }
    } finally {
      setSubmitting(false);
    }
  }

  async function cancel() {
    if (!run) return;
    setCancelling(true);
    try {
      const g = await api.cancel(run.id);
      setRun((r) => (r && r.id === g.id ? { ...r, gen: g, cancelError: undefined } : r));
      refreshBalance();
    } catch (err) {
      if (!authError(err)) setRun((r) => (r ? { ...r, cancelError: err instanceof ApiError ? err.message : String(err) } : r));
    } finally {
      setCancelling(false);
    }
  }

  /** Loads req into the form: its model and each field it gives. */
  async function loadRequest(req: Request, id: string): Promise<string[]> {
    const m = models?.find((x) => x.id === req.model);
    if (!m) throw new Error(`The model ${String(req.model)} is not served here any more.`);
    const next: Values = {};
    const skipped: string[] = [];
    for (const p of paramsOf(m)) {
      const v = req[p.name];
      if (v === undefined) continue;
      let val: Value;
      if (p.type === 'url') {
        const s = String(v);
        val = s.startsWith('data:') ? await fromDataURI(s, `${p.name.replace(/_url$/, '')} of ${id}`, p.media) : { source: 'url', url: s };
      } else if (p.type === 'boolean') val = v === true;
      else val = String(v);
      next[p.name] = val;
    }
    for (const k of Object.keys(req)) if (k !== 'model' && !paramsOf(m).some((p) => p.name === k)) skipped.push(k);
    // Free the previews of the files being replaced.
    for (const v of Object.values(values)) if (isMedia(v) && v.preview?.startsWith('blob:')) URL.revokeObjectURL(v.preview);
    setModelId(m.id);
    setValues(next);
    setErrors({});
    setBanner(undefined);
    return skipped;
  }

  async function again(id: string) {
    setFormNote('');
    try {
      const kept = keptRequest(id);
      if (kept) {
        const skipped = await loadRequest(kept.request, id);
        const notes = [`Loaded the settings of ${id}.`];
        if (kept.dropped?.length) {
          const one = kept.dropped.length === 1;
          notes.push(`Its ${kept.dropped.map((f) => label(f).toLowerCase()).join(' and ')} ${one ? 'file was' : 'files were'} not kept: this browser's storage was full. Choose ${one ? 'it' : 'them'} again.`);
        }
        if (skipped.length) notes.push(`Not in this model's form: ${skipped.join(', ')}.`);
        setFormNote(notes.join(' '));
      } else {
        // Made elsewhere (another browser, a script): the API keeps the
        // model, prompt, length and size, not the rest.
        const o = await api.videoObject(id);
        const req: Request = { model: o.model ?? '' };
        if (o.prompt) req.prompt = o.prompt;
        if (o.seconds && Number(o.seconds)) req.duration = Number(o.seconds);
        const size = /^(\d+)x(\d+)$/.exec(o.size ?? '');
        if (size) req.resolution = `${Math.min(Number(size[1]), Number(size[2]))}p`;
        const m = models?.find((x) => x.id === req.model);
        const resParam = m && paramsOf(m).find((p) => p.name === 'resolution');
        if (resParam?.enum && !resParam.enum.includes(req.resolution as string)) delete req.resolution;
        await loadRequest(req, id);
        setFormNote(
          `${id} was made outside this browser, so only its model, prompt, length and resolution are known here; its files and other settings are the form's defaults.`,
        );
      }
      navigate('create');
    } catch (err) {
      if (authError(err)) return;
      setFormNote(`Could not load the settings of ${id}: ${(err as Error).message}`);
      navigate('create');
    }
  }

  function open(g: Generation) {
    submittedHere.current = true;
    setRun({ id: g.id, gen: g, origin: 'opened' });
    const kept = keptRequest(g.id);
    setSent(kept?.request ?? null);
    navigate('create');
  }

  const header = (
    <header class="top">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <p class="brand">
        stillmotion <span class="brand-sub">studio</span>
      </p>
      <nav aria-label="Studio">
        <a href="#/" aria-current={route === 'create' ? 'page' : undefined}>
          Create
        </a>
        <a href="#/history" aria-current={route === 'history' ? 'page' : undefined}>
          History
        </a>
      </nav>
      <p class="balance" aria-live="polite">
        <BalanceText balance={balance} perUSD={models?.find((m) => m.pricing?.credits_per_usd)?.pricing?.credits_per_usd ?? 2_000_000} />
      </p>
      <button type="button" class="secondary small" onClick={() => onSignOut()}>
        Sign out
      </button>
    </header>
  );

  if (route === 'history') {
    return (
      <>
        {header}
        <History api={api} onOpen={open} onAgain={again} onChanged={refreshBalance} onAuthError={(e) => authError(e)} />
      </>
    );
  }

  const sentMatches = sent !== null && request !== null && sameRequest(sent, request);
  return (
    <>
      {header}
      <main id="main" class="create" tabIndex={-1}>
        <h1 class="visually-hidden">Make a video</h1>
        {loadError && (
          <p class="error" role="alert">
            {loadError}
          </p>
        )}
        {!models && !loadError && <p role="status">Loading the models…</p>}
        {models && models.length === 0 && <p class="error">This server serves no models.</p>}
        {model && request && (
          <div class="columns">
            <ModelForm
              api={api}
              models={models!}
              model={model}
              onModel={(id) => {
                setModelId(id);
                setErrors({});
                setBanner(undefined);
                setFormNote('');
              }}
              values={values}
              onValues={setValues}
              errors={errors}
              onErrors={setErrors}
              voices={voices}
              request={request}
              onSubmit={submit}
              submitting={submitting}
              banner={banner}
              waitSeconds={waitSeconds}
              note={formNote}
            />
            <div class="side">
              {run && <RunPanel key={run.id} run={run} onCancel={cancel} cancelling={cancelling} focusOnMount={submittedHere.current} />}
              <CodePanel request={request} sent={sentMatches} />
            </div>
          </div>
        )}
      </main>
    </>
  );
}

/** Whether a and b are the same request (field by field: their files may be megabytes long). */
function sameRequest(a: Request, b: Request): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function BalanceText({ balance, perUSD }: { balance: Balance | null | undefined; perUSD: number }) {
  if (balance === undefined) return <span class="muted">Balance…</span>;
  if (balance === null) return <span class="muted">Balance not available</span>;
  if (balance.unlimited || balance.balance === null) return <span>Balance: unlimited</span>;
  return (
    <span class={balance.lowBalance ? 'low' : undefined}>
      Balance: <strong>{fmtCredits(balance.balance)}</strong> credits ({fmtUSD(balance.balance / perUSD)})
      {balance.lowBalance ? ' (low)' : ''}
    </span>
  );
}
