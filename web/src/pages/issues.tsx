import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { TrackedDeletions, trackedDeletions } from '../deletions.tsx';
import { compactCount, timeAgo } from '../format.ts';
import { issueListPath, listParamsFrom, SORTS, statusOf, STATUSES, withStatus, type IssueListParams, type IssueStatus } from '../issue-query.ts';
import { Failure, Layout } from '../layout.tsx';
import { Link, navigate, useLocation } from '../router.tsx';
import { sparklinePoints } from '../sparkline.ts';
import type { Issue, Project } from '../types.ts';
import { useApi } from '../use-api.ts';

// A project's issues: search in the API's query language, status filter, sort, cursor pages,
// bulk status changes and deletions. A change the API accepted shows at once; the list is read
// again shortly after, when the projector has applied it.

type Override = IssueStatus | 'pending_deletion';

function Sparkline({ issue }: { issue: Issue }) {
  const counts = (issue.stats['24h'] ?? []).map(([, count]) => count);
  return (
    <svg className="sparkline" width="80" height="20" viewBox="-1 -1 82 22" aria-label={`${counts.reduce((sum, count) => sum + count, 0)} events in 24h`}>
      <polyline points={sparklinePoints(counts, 80, 20)} />
    </svg>
  );
}

export function IssuesPage({ org, project }: { org: string; project: string }) {
  const { path, search } = useLocation();
  const params = listParamsFrom(search);
  const list = useApi<Issue[]>(issueListPath(org, project, params));
  const projects = useApi<Project[]>(`/organizations/${org}/projects/`);
  const [draft, setDraft] = useState(params.query);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [overrides, setOverrides] = useState<Map<string, Override>>(new Map());
  const [actionError, setActionError] = useState<Error>();
  const [deletionsShown, setDeletionsShown] = useState(0);
  useEffect(() => setDraft(params.query), [params.query]);
  useEffect(() => setSelected(new Set()), [list.answer]);

  const show = (next: Partial<IssueListParams>) => {
    const merged = { ...params, cursor: undefined, ...next };
    const query = new URLSearchParams({ query: merged.query, sort: merged.sort });
    if (merged.cursor) query.set('cursor', merged.cursor);
    navigate(`${path}?${query}`);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    show({ query: draft });
  };

  const filterStatus = statusOf(params.query);
  const issues = (list.answer?.data ?? []).filter((issue) => {
    const override = overrides.get(issue.id);
    return override !== 'pending_deletion' && (override === undefined || filterStatus === undefined || override === filterStatus);
  });
  const ids = [...selected];
  const override = (status: Override) => setOverrides((previous) => new Map([...previous, ...ids.map((id) => [id, status] as const)]));

  const setStatus = async (status: IssueStatus) => {
    setActionError(undefined);
    try {
      await api('PUT', `/projects/${org}/${project}/issues/?${ids.map((id) => `id=${id}`).join('&')}`, { status });
      override(status);
      setTimeout(list.reload, 1000);
    } catch (error) {
      setActionError(error as Error);
    }
  };
  // One DELETE per issue: each answers its own transaction id, whose progress the panel follows.
  const remove = async () => {
    if (!window.confirm(`Delete ${ids.length} issue${ids.length === 1 ? '' : 's'} and all their events?`)) return;
    setActionError(undefined);
    const titles = new Map(issues.map((issue) => [issue.id, `${issue.shortId} ${issue.title}`]));
    const answers = await Promise.allSettled(ids.map((id) => api<{ transactionId: string }>('DELETE', `/organizations/${org}/issues/${id}/`)));
    const started = answers.flatMap((answer, index) => (answer.status === 'fulfilled' ? [{ transactionId: answer.value.data.transactionId, label: `issue ${titles.get(ids[index]!) ?? ids[index]}`, id: ids[index]! }] : []));
    trackedDeletions.add(started.map(({ transactionId, label }) => ({ transactionId, label })));
    setOverrides((previous) => new Map([...previous, ...started.map(({ id }) => [id, 'pending_deletion'] as const)]));
    setDeletionsShown((value) => value + 1);
    const failed = answers.find((answer) => answer.status === 'rejected');
    if (failed) setActionError(failed.reason as Error);
  };

  const toggle = (id: string) => setSelected((previous) => new Set(previous.has(id) ? [...previous].filter((other) => other !== id) : [...previous, id]));
  const allSelected = issues.length > 0 && issues.every((issue) => selected.has(issue.id));
  const now = Date.now();
  const cursors = list.answer?.cursors ?? {};

  return (
    <Layout org={org} project={project}>
      <form className="toolbar" onSubmit={submit} role="search">
        <select aria-label="Project" value={project} onChange={(event) => navigate(`/organizations/${org}/projects/${event.target.value}/issues/`)}>
          {(projects.answer?.data ?? [{ slug: project }]).map((candidate) => (
            <option key={candidate.slug} value={candidate.slug}>
              {candidate.slug}
            </option>
          ))}
        </select>
        <input className="search" aria-label="Search" name="query" value={draft} onChange={(event) => setDraft(event.target.value)} placeholder="is:unresolved level:error release:web@1 text" />
        <button type="submit">Search</button>
        <select aria-label="Status" value={filterStatus ?? ''} onChange={(event) => show({ query: withStatus(params.query, (event.target.value || undefined) as IssueStatus | undefined) })}>
          <option value="">All statuses</option>
          {STATUSES.map((status) => (
            <option key={status} value={status}>
              {status[0]!.toUpperCase() + status.slice(1)}
            </option>
          ))}
        </select>
        <select aria-label="Sort" value={params.sort} onChange={(event) => show({ sort: event.target.value as IssueListParams['sort'] })}>
          {Object.entries(SORTS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </form>
      <TrackedDeletions key={deletionsShown} />
      <Failure error={list.error ?? actionError} />
      <div className="bulk">
        <input type="checkbox" aria-label="Select all" checked={allSelected} onChange={() => setSelected(allSelected ? new Set() : new Set(issues.map((issue) => issue.id)))} />
        <button type="button" disabled={ids.length === 0} onClick={() => void setStatus('resolved')}>
          Resolve
        </button>
        <button type="button" disabled={ids.length === 0} onClick={() => void setStatus('ignored')}>
          Ignore
        </button>
        <button type="button" disabled={ids.length === 0} onClick={() => void setStatus('unresolved')}>
          Unresolve
        </button>
        <button type="button" className="danger" disabled={ids.length === 0} onClick={() => void remove()}>
          Delete
        </button>
        <span className="muted">{ids.length > 0 ? `${ids.length} selected` : ''}</span>
      </div>
      <table className="issues">
        <thead>
          <tr>
            <th />
            <th>Issue</th>
            <th>Level</th>
            <th>Last 24h</th>
            <th className="number">Events</th>
            <th className="number">Users</th>
            <th>First seen</th>
            <th>Last seen</th>
          </tr>
        </thead>
        <tbody>
          {issues.map((issue) => (
            <tr key={issue.id} data-issue={issue.id} className={selected.has(issue.id) ? 'selected' : undefined}>
              <td>
                <input type="checkbox" aria-label={`Select ${issue.shortId}`} checked={selected.has(issue.id)} onChange={() => toggle(issue.id)} />
              </td>
              <td className="issue-title">
                <Link to={`/organizations/${org}/issues/${issue.id}/`}>{issue.title}</Link>
                <div className="muted">
                  {issue.shortId} · {issue.culprit || '—'}
                  {(overrides.get(issue.id) ?? issue.status) !== 'unresolved' && <span className="badge">{overrides.get(issue.id) ?? issue.status}</span>}
                </div>
              </td>
              <td>
                <span className={`level level-${issue.level}`}>{issue.level}</span>
              </td>
              <td>
                <Sparkline issue={issue} />
              </td>
              <td className="number">{compactCount(issue.count)}</td>
              <td className="number">{compactCount(issue.userCount)}</td>
              <td title={issue.firstSeen}>{timeAgo(issue.firstSeen, now)}</td>
              <td title={issue.lastSeen}>{timeAgo(issue.lastSeen, now)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.answer && issues.length === 0 && <p className="empty">No issues match {params.query ? <code>{params.query}</code> : 'this search'}.</p>}
      <div className="pager">
        <button type="button" disabled={!cursors.previous} onClick={() => show({ cursor: cursors.previous })}>
          ← Previous
        </button>
        <button type="button" disabled={!cursors.next} onClick={() => show({ cursor: cursors.next })}>
          Next →
        </button>
      </div>
    </Layout>
  );
}
