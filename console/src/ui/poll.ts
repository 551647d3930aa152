import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../lib/problems.ts';

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: ApiError | undefined;
  /** When the data last arrived (epoch ms). */
  readonly updatedAt: number | undefined;
  /** The tab is hidden: no requests until it shows again. */
  readonly paused: boolean;
  readonly refresh: () => void;
  /** Puts an answer the page already has (an action's result) in place of the last poll's. */
  readonly set: (data: T) => void;
}

/**
 * Loads now, then every `intervalMs` while the page is visible: a hidden tab (the phone in a
 * pocket, the live app in front) sends nothing, and a tab shown again refreshes at once.
 * One request at a time; failures back off up to four intervals and keep the last data.
 */
export const usePoll = <T>(load: (signal: AbortSignal) => Promise<T>, intervalMs: number, key: string): Polled<T> => {
  const [state, setState] = useState<{ data?: T; error?: ApiError; updatedAt?: number; paused: boolean }>({ paused: false });
  const loadRef = useRef(load);
  loadRef.current = load;
  const kick = useRef<() => void>(() => {});
  const lastKey = useRef(key);
  /** Bumped by `set`: a load started before it answers with older data and is dropped. */
  const generation = useRef(0);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight: AbortController | undefined;
    let failures = 0;
    // Another resource: forget the last one's data. A new interval for the same one keeps it.
    if (lastKey.current !== key) {
      lastKey.current = key;
      setState({ paused: false });
    }

    const schedule = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(run, ms);
    };
    const run = async () => {
      if (stopped || inFlight) return;
      if (document.hidden) {
        setState((s) => (s.paused ? s : { ...s, paused: true }));
        return;
      }
      const controller = new AbortController();
      inFlight = controller;
      const startedAt = generation.current;
      try {
        const data = await loadRef.current(controller.signal);
        if (stopped) return;
        failures = 0;
        // An answer started before the page set newer data itself (a confirmed change) is older than what it shows.
        if (startedAt === generation.current) setState({ data, updatedAt: Date.now(), paused: false });
      } catch (err) {
        if (stopped || controller.signal.aborted) return;
        failures++;
        const error = err instanceof ApiError ? err : new ApiError({ type: 'about:blank', title: String(err), status: 0, detail: '', errors: [] });
        setState((s) => ({ ...s, error, paused: false }));
      } finally {
        if (inFlight === controller) inFlight = undefined;
      }
      if (!stopped) schedule(intervalMs * Math.min(4, 2 ** failures));
    };
    const onVisibility = () => {
      if (!document.hidden) {
        clearTimeout(timer);
        void run();
      }
    };
    kick.current = () => {
      clearTimeout(timer);
      if (!inFlight) void run();
    };
    document.addEventListener('visibilitychange', onVisibility);
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
      inFlight?.abort();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [key, intervalMs]);

  const refresh = useCallback(() => kick.current(), []);
  const set = useCallback((data: T) => {
    generation.current++;
    setState((s) => ({ ...s, data, error: undefined, updatedAt: Date.now() }));
  }, []);
  return { ...state, refresh, set } as Polled<T>;
};
