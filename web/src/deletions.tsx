import { useEffect, useState } from 'react';
import { ApiFailure, get } from './api.ts';
import { dateTime } from './format.ts';
import type { Deletion } from './types.ts';

// A deletion request's progress: "pending deletion" from the moment DELETE answered 202, then the
// deletion status endpoint's state and amounts, polled until it is done (or dead). Until the
// projector has recorded the request the endpoint answers 404, which is still "pending".

const FINAL = new Set(['done', 'dead']);
const STORE_KEY = 'trapline.deletions';

export interface TrackedDeletion {
  transactionId: string;
  label: string;
}

/** Deletions this tab asked for, shown on the issues page until dismissed. */
export const trackedDeletions = {
  list: (): TrackedDeletion[] => JSON.parse(sessionStorage.getItem(STORE_KEY) ?? '[]') as TrackedDeletion[],
  add(deletions: TrackedDeletion[]) {
    sessionStorage.setItem(STORE_KEY, JSON.stringify([...deletions, ...trackedDeletions.list()]));
  },
  remove(transactionId: string) {
    sessionStorage.setItem(STORE_KEY, JSON.stringify(trackedDeletions.list().filter((deletion) => deletion.transactionId !== transactionId)));
  },
};

export function useDeletion(transactionId: string, intervalMs = 1000): { deletion?: Deletion; error?: string } {
  const [state, setState] = useState<{ deletion?: Deletion; error?: string }>({});
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const poll = async () => {
      try {
        const { data } = await get<Deletion>(`/deletions/${transactionId}/`);
        if (stopped) return;
        setState({ deletion: data });
        if (FINAL.has(data.status)) return;
      } catch (error) {
        if (stopped) return;
        if (!(error instanceof ApiFailure && error.status === 404)) setState((previous) => ({ ...previous, error: (error as Error).message }));
      }
      timer = setTimeout(() => void poll(), intervalMs);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [transactionId, intervalMs]);
  return state;
}

const STATUS_TEXT: Record<string, string> = { pending: 'Pending deletion', running: 'Deleting', retrying: 'Retrying', dead: 'Deletion failed', done: 'Deleted' };

export function DeletionProgress({ transactionId, label, onDismiss }: TrackedDeletion & { onDismiss?: () => void }) {
  const { deletion, error } = useDeletion(transactionId);
  const status = deletion?.status ?? 'pending';
  return (
    <div className={`deletion deletion-${status}`} data-transaction={transactionId} data-status={status}>
      <strong className="deletion-status">{STATUS_TEXT[status] ?? status}</strong> <span>{label}</span>
      <span className="muted">
        {' · '}
        {deletion ? `${deletion.progress.eventsRemoved} events removed in ${deletion.progress.chunks} chunks` : 'waiting for the deleter'}
        {deletion?.dateCompleted ? ` · done ${dateTime(deletion.dateCompleted)}` : deletion ? ` · requested ${dateTime(deletion.dateRequested)}` : ''}
        {deletion?.attempts ? ` · attempt ${deletion.attempts}` : ''}
      </span>
      {deletion?.lastError && <div className="error">{deletion.lastError}</div>}
      {error && <div className="error">{error}</div>}
      {onDismiss && FINAL.has(status) && (
        <button type="button" className="link-button" onClick={onDismiss}>
          dismiss
        </button>
      )}
    </div>
  );
}

export function TrackedDeletions() {
  const [tracked, setTracked] = useState(trackedDeletions.list);
  if (tracked.length === 0) return null;
  const dismiss = (transactionId: string) => {
    trackedDeletions.remove(transactionId);
    setTracked(trackedDeletions.list());
  };
  return (
    <section className="panel deletions">
      <h3>Deletions</h3>
      {tracked.map((deletion) => (
        <DeletionProgress key={deletion.transactionId} {...deletion} onDismiss={() => dismiss(deletion.transactionId)} />
      ))}
    </section>
  );
}
