import { useCallback, useEffect, useState } from 'react';
import { get, type ApiAnswer } from './api.ts';

// One GET of the Web API for a page: its answer or failure, refetched when the path changes or
// on reload().

export interface Loaded<T> {
  answer?: ApiAnswer<T>;
  error?: Error;
  loading: boolean;
  reload(): void;
}

export function useApi<T>(path: string | undefined): Loaded<T> {
  const [state, setState] = useState<{ answer?: ApiAnswer<T>; error?: Error; loading: boolean }>({ loading: path !== undefined });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    if (path === undefined) return;
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    get<T>(path).then(
      (answer) => current && setState({ answer, loading: false }),
      (error: Error) => current && setState({ error, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [path, generation]);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { ...state, reload };
}

/** A write from a page: its failure (cleared when the next one starts), and `then` (a reload) after success. */
export function useAction(then: () => void): { error: Error | undefined; act(work: () => Promise<unknown>): Promise<void> } {
  const [error, setError] = useState<Error>();
  const act = async (work: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await work();
      then();
    } catch (failure) {
      setError(failure as Error);
    }
  };
  return { error, act };
}
