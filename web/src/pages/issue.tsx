import { useState } from 'react';
import { api } from '../api.ts';
import { DeletionProgress, trackedDeletions, type TrackedDeletion } from '../deletions.tsx';
import { compactCount, dateTime, timeAgo } from '../format.ts';
import type { IssueStatus } from '../issue-query.ts';
import { Failure, Layout } from '../layout.tsx';
import { Link, navigate, useLocation } from '../router.tsx';
import type { FullEvent, Issue, SimpleEvent, TagSummary } from '../types.ts';
import { useApi } from '../use-api.ts';
import { EventEntries } from './event-entries.tsx';

// One issue: its numbers and status, its tags' value distribution, and one of its events in full
// (the latest unless ?event= names another) with navigation between them. Deleting the issue or
// the event shows the deletion's progress in place.

function Tags({ tags }: { tags: TagSummary[] }) {
  return (
    <section className="panel tags">
      <h3>Tags</h3>
      {tags.map((tag) => (
        <div className="tag" key={tag.key} data-tag={tag.key}>
          <div className="tag-name">{tag.key}</div>
          {tag.topValues.map((value) => {
            const share = tag.totalValues > 0 ? Math.round((value.count / tag.totalValues) * 100) : 0;
            return (
              <div className="tag-value" key={value.value} title={`${value.count} of ${tag.totalValues} events`}>
                <span className="bar" style={{ width: `${share}%` }} />
                <span className="tag-value-text">{value.value}</span>
                <span className="muted">{share}%</span>
              </div>
            );
          })}
        </div>
      ))}
    </section>
  );
}

function EventNavigation({ org, id, events, current, deleted }: { org: string; id: string; events: SimpleEvent[]; current: string; deleted: Set<string> }) {
  const index = events.findIndex((event) => event.eventID === current);
  const go = (event: SimpleEvent | undefined) => event && navigate(`/organizations/${org}/issues/${id}/?event=${event.eventID}`);
  return (
    <div className="event-nav">
      <button type="button" disabled={index <= 0} onClick={() => go(events[0])}>
        Newest
      </button>
      <button type="button" disabled={index <= 0} onClick={() => go(events[index - 1])}>
        ← Newer
      </button>
      <span className="muted">{index >= 0 ? `event ${index + 1} of ${events.length}${events.length === 100 ? '+' : ''}` : ''}</span>
      <button type="button" disabled={index < 0 || index >= events.length - 1} onClick={() => go(events[index + 1])}>
        Older →
      </button>
      <button type="button" disabled={index < 0 || index >= events.length - 1} onClick={() => go(events[events.length - 1])}>
        Oldest
      </button>
      <details className="event-list">
        <summary>All events</summary>
        <table>
          <tbody>
            {events.map((event) => (
              <tr key={event.eventID} className={event.eventID === current ? 'selected' : deleted.has(event.eventID) ? 'deleted' : undefined}>
                <td>
                  <Link to={`/organizations/${org}/issues/${id}/?event=${event.eventID}`}>{event.eventID.slice(0, 12)}</Link>
                </td>
                <td>{dateTime(event.dateCreated)}</td>
                <td>{event.user?.email ?? event.user?.username ?? event.user?.id ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}

export function IssuePage({ org, id }: { org: string; id: string }) {
  const { search } = useLocation();
  const wanted = search.get('event');
  const issue = useApi<Issue>(`/organizations/${org}/issues/${id}/`);
  const events = useApi<SimpleEvent[]>(`/organizations/${org}/issues/${id}/events/?per_page=100`);
  const tags = useApi<TagSummary[]>(`/organizations/${org}/issues/${id}/tags/`);
  const project = issue.answer?.data.project.slug;
  const event = useApi<FullEvent>(project === undefined ? undefined : wanted ? `/projects/${org}/${project}/events/${wanted}/` : `/organizations/${org}/issues/${id}/events/latest/`);
  const [issueDeletion, setIssueDeletion] = useState<TrackedDeletion>();
  const [eventDeletions, setEventDeletions] = useState<Map<string, TrackedDeletion>>(new Map());
  const [status, setStatus] = useState<string>();
  const [actionError, setActionError] = useState<Error>();

  const act = async (work: () => Promise<void>) => {
    setActionError(undefined);
    await work().catch(setActionError);
  };
  const changeStatus = (next: IssueStatus, statusDetails?: { inNextRelease: true }) =>
    act(async () => {
      await api('PUT', `/organizations/${org}/issues/${id}/`, { status: next, ...(statusDetails ? { statusDetails } : {}) });
      setStatus(next);
    });
  const deleteIssue = (data: Issue) =>
    act(async () => {
      if (!window.confirm(`Delete ${data.shortId} and all its events?`)) return;
      const { data: answer } = await api<{ transactionId: string }>('DELETE', `/organizations/${org}/issues/${id}/`);
      const tracked = { transactionId: answer.transactionId, label: `issue ${data.shortId} ${data.title}` };
      trackedDeletions.add([tracked]);
      setIssueDeletion(tracked);
    });
  const deleteEvent = (eventId: string) =>
    act(async () => {
      if (!window.confirm(`Delete event ${eventId}?`)) return;
      const { data: answer } = await api<{ transactionId: string }>('DELETE', `/projects/${org}/${project}/events/${eventId}/`);
      const tracked = { transactionId: answer.transactionId, label: `event ${eventId}` };
      trackedDeletions.add([tracked]);
      setEventDeletions((previous) => new Map([...previous, [eventId, tracked]]));
    });

  const data = issue.answer?.data;
  if (!data) return <Layout org={org}>{issue.loading ? <p className="muted">Loading…</p> : <Failure error={issue.error} />}</Layout>;
  const shownStatus = issueDeletion ? 'pending deletion' : (status ?? data.status);
  const current = event.answer?.data;
  const currentDeletion = current && eventDeletions.get(current.eventID);
  const now = Date.now();

  return (
    <Layout org={org} project={data.project.slug}>
      <section className="issue-header">
        <div className="muted">
          <Link to={`/organizations/${org}/projects/${data.project.slug}/issues/`}>{data.project.slug}</Link> / {data.shortId}
        </div>
        <h1>{data.title}</h1>
        <div className="muted">{data.culprit}</div>
        <div className="facts">
          <span className={`level level-${data.level}`}>{data.level}</span>
          <span className="badge status" data-status={shownStatus}>
            {shownStatus}
          </span>
          <span>
            <strong>{compactCount(data.count)}</strong> events
          </span>
          <span>
            <strong>{compactCount(data.userCount)}</strong> users
          </span>
          <span title={data.firstSeen}>first seen {timeAgo(data.firstSeen, now)}</span>
          <span title={data.lastSeen}>last seen {timeAgo(data.lastSeen, now)}</span>
          {data.firstRelease && (
            <span className="release" data-release="first" title={data.firstRelease.version}>
              first in <Link to={`/organizations/${org}/releases/`}>{data.firstRelease.shortVersion}</Link>
            </span>
          )}
          {data.lastRelease && (
            <span className="release" data-release="last" title={data.lastRelease.version}>
              last in <Link to={`/organizations/${org}/releases/`}>{data.lastRelease.shortVersion}</Link>
            </span>
          )}
          {shownStatus === 'resolved' && data.statusDetails?.inNextRelease && <span className="muted">resolved in the next release</span>}
          {shownStatus === 'resolved' && data.statusDetails?.inRelease && <span className="muted">resolved in {data.statusDetails.inRelease}</span>}
        </div>
        {!issueDeletion && (
          <div className="actions">
            {shownStatus !== 'resolved' && <button onClick={() => void changeStatus('resolved')}>Resolve</button>}
            {shownStatus !== 'resolved' && data.lastRelease && <button onClick={() => void changeStatus('resolved', { inNextRelease: true })}>Resolve in next release</button>}
            {shownStatus !== 'ignored' && <button onClick={() => void changeStatus('ignored')}>Ignore</button>}
            {shownStatus !== 'unresolved' && <button onClick={() => void changeStatus('unresolved')}>Unresolve</button>}
            <button className="danger" onClick={() => void deleteIssue(data)}>
              Delete issue
            </button>
          </div>
        )}
        <Failure error={actionError} />
      </section>
      {issueDeletion ? (
        <section className="panel">
          <DeletionProgress {...issueDeletion} />
          <p>
            <Link to={`/organizations/${org}/projects/${data.project.slug}/issues/`}>Back to the issues</Link>
          </p>
        </section>
      ) : (
        <div className="issue-body">
          <div className="event-column">
            {events.answer && current && <EventNavigation org={org} id={id} events={events.answer.data} current={current.eventID} deleted={new Set(eventDeletions.keys())} />}
            <Failure error={event.error ?? events.error} />
            {current && (
              <>
                <div className="event-header">
                  <span>
                    Event <code>{current.eventID}</code> · {dateTime(current.dateCreated)}
                    {current.release && ` · release ${current.release.version}`}
                    {current.environment && ` · ${current.environment}`}
                  </span>
                  {!currentDeletion && (
                    <button className="danger small" onClick={() => void deleteEvent(current.eventID)}>
                      Delete event
                    </button>
                  )}
                </div>
                {currentDeletion && <DeletionProgress {...currentDeletion} />}
                <EventEntries event={current} />
                <details className="panel event-json">
                  <summary>Event JSON</summary>
                  <pre>{JSON.stringify(current, null, 2)}</pre>
                </details>
              </>
            )}
          </div>
          <aside>{tags.answer && <Tags tags={tags.answer.data} />}</aside>
        </div>
      )}
    </Layout>
  );
}
