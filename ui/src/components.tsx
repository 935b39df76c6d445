/**
 * The dashboard's shared pieces: data loading with error display, forms' field helpers, and the
 * status chips. Everything is a real element (button, a, label) so the keyboard works.
 *
 * @example
 *   const { data, error, reload } = useLoad(() => api<{ projects: Project[] }>('GET', '/v1/projects'), []);
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.js';

export interface Loaded<T> { data: T | undefined; error: unknown; loading: boolean; reload: () => void }

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then((data) => { if (live) setState({ data, error: undefined, loading: false }); },
      (error: unknown) => { if (live) setState({ data: undefined, error, loading: false }); });
    return () => { live = false; };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

export function ErrorBox({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  return <p class="error" role="alert">{errorText(error)}</p>;
}

export function Loading({ what }: { what: string }) {
  return <p class="muted" aria-busy="true">Loading {what}…</p>;
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  const hid = `${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-h`;
  return (
    <section class="card" aria-labelledby={hid}>
      <h2 id={hid}>{title}</h2>
      {children}
    </section>
  );
}

export function Chip({ value }: { value: string }) {
  const tone = /^(active|promoted|ok|intact|passed|preflight_passed|retired|success|accepted|ready)$/.test(value) ? 'good'
    : /^(failed|stuck|disabled|expired|revoked|failure|denied|broken)$/.test(value) ? 'bad' : 'warn';
  return <span class={`chip ${tone}`}>{value}</span>;
}

export function Field({ label, children }: { label: string; children: ComponentChildren }) {
  return <label class="field"><span>{label}</span>{children}</label>;
}

/** Runs an action from a button or form: disables while busy, shows the error or the result line. */
export function useAction(): { busy: boolean; error: unknown; note: string | undefined; run: (f: () => Promise<string | void>) => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [note, setNote] = useState<string | undefined>(undefined);
  const run = async (f: () => Promise<string | void>): Promise<void> => {
    setBusy(true); setError(undefined); setNote(undefined);
    try {
      const n = await f();
      if (typeof n === 'string') setNote(n);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, note, run };
}

export function ActionResult({ a }: { a: { error: unknown; note: string | undefined } }) {
  return (
    <div aria-live="polite">
      <ErrorBox error={a.error} />
      {a.note ? <p class="note">{a.note}</p> : null}
    </div>
  );
}
