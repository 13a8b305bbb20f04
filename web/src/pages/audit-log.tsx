import { dateTime } from '../format.ts';
import { Failure, Layout } from '../layout.tsx';
import { navigate, useLocation } from '../router.tsx';
import type { AuditEntry } from '../types.ts';
import { useApi } from '../use-api.ts';

// The organization's audit log (scope org:write): each deletion's request and completion, with
// who asked, when, when it was due and ran, and how much it removed.

const amount = (value: unknown) => (typeof value === 'number' || typeof value === 'string' ? String(value) : '');
const time = (value: unknown) => (typeof value === 'number' ? dateTime(new Date(value).toISOString()) : typeof value === 'string' ? dateTime(value) : '');

export function AuditLogPage({ org }: { org: string }) {
  const { path, search } = useLocation();
  const filter = search.get('event') ?? '';
  const cursor = search.get('cursor') ?? '';
  const query = new URLSearchParams({ per_page: '50', ...(filter ? { event: filter } : {}), ...(cursor ? { cursor } : {}) });
  const log = useApi<{ rows: AuditEntry[]; options: string[] }>(`/organizations/${org}/audit-logs/?${query}`);
  const show = (next: { event?: string; cursor?: string }) => {
    const params = new URLSearchParams(Object.entries({ event: filter, ...next }).filter(([, value]) => value) as [string, string][]);
    navigate(`${path}${params.size > 0 ? `?${params}` : ''}`);
  };
  const cursors = log.answer?.cursors ?? {};
  return (
    <Layout org={org}>
      <h2>Audit log</h2>
      <div className="toolbar">
        <select aria-label="Event" value={filter} onChange={(event) => show({ event: event.target.value })}>
          <option value="">All events</option>
          {(log.answer?.data.options ?? []).map((option) => (
            <option key={option}>{option}</option>
          ))}
        </select>
      </div>
      <Failure error={log.error} />
      <table className="audit">
        <thead>
          <tr>
            <th>Time</th>
            <th>Event</th>
            <th>What</th>
            <th>Actor</th>
            <th>Requested</th>
            <th>Scheduled for</th>
            <th className="number">Events removed</th>
            <th className="number">Rows removed</th>
            <th>Transaction</th>
          </tr>
        </thead>
        <tbody>
          {(log.answer?.data.rows ?? []).map((row) => (
            <tr key={row.id} data-event={row.event} data-transaction={row.transactionId ?? ''}>
              <td>{dateTime(row.dateCreated)}</td>
              <td>
                <code>{row.event}</code>
              </td>
              <td>{row.note}</td>
              <td title={row.actor.id}>{row.actor.name}</td>
              <td>{time(row.data.requestedAt)}</td>
              <td>{time(row.data.scheduledFor)}</td>
              <td className="number">{amount(row.data.eventsRemoved)}</td>
              <td className="number">{amount(row.data.rowsRemoved)}</td>
              <td>
                <code title={row.transactionId ?? ''}>{row.transactionId?.slice(0, 8) ?? ''}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {log.answer && log.answer.data.rows.length === 0 && <p className="empty">Nothing recorded yet.</p>}
      <div className="pager">
        <button type="button" disabled={!cursors.previous} onClick={() => show({ cursor: cursors.previous ?? '' })}>
          ← Previous
        </button>
        <button type="button" disabled={!cursors.next} onClick={() => show({ cursor: cursors.next ?? '' })}>
          Next →
        </button>
      </div>
    </Layout>
  );
}
