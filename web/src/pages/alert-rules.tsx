import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { dateTime } from '../format.ts';
import { Failure, Layout } from '../layout.tsx';
import { useApi } from '../use-api.ts';

// A project's issue alert rules (create, edit, disable, delete) and its recent deliveries, with
// their errors. The form writes Sentry's rule shape; the API refuses a bad one naming the field.

const FIRST_SEEN = 'sentry.rules.conditions.first_seen_event.FirstSeenEventCondition';
const REGRESSION = 'sentry.rules.conditions.regression_event.RegressionEventCondition';
const FREQUENCY = 'sentry.rules.conditions.event_frequency.EventFrequencyCondition';
const EMAIL = 'sentry.mail.actions.NotifyEmailAction';
const SERVICE = 'sentry.rules.actions.notify_event_service.NotifyEventServiceAction';
const SLACK = 'trapline.rules.actions.slack_webhook.SlackWebhookAction';

interface Rule {
  id: string;
  name: string;
  status: string;
  frequency: number;
  environment: string | null;
  actionMatch: string;
  conditions: { id: string; value?: number; interval?: string }[];
  filters: unknown[];
  actions: { id: string; webhookUrl?: string; targetType?: string }[];
}

interface Delivery {
  id: string;
  issueId: string;
  ruleName: string;
  trigger: string;
  kind: string;
  target: string;
  status: string;
  attempts: number;
  lastError: string | null;
  dateDecided: string;
}

const CONDITION_NAMES: Record<string, string> = { [FIRST_SEEN]: 'a new issue', [REGRESSION]: 'a regression', [FREQUENCY]: 'event frequency' };
const ACTION_NAMES: Record<string, string> = { [EMAIL]: 'e-mail', [SERVICE]: 'service hooks', [SLACK]: 'Slack' };

interface Draft {
  name: string;
  condition: string;
  value: string;
  interval: string;
  action: string;
  webhookUrl: string;
  frequency: string;
  environment: string;
}

const EMPTY: Draft = { name: '', condition: FIRST_SEEN, value: '100', interval: '1h', action: EMAIL, webhookUrl: '', frequency: '30', environment: '' };

function draftOf(rule: Rule): Draft {
  const condition = rule.conditions[0] ?? { id: FIRST_SEEN };
  const action = rule.actions[0] ?? { id: EMAIL };
  return { name: rule.name, condition: condition.id, value: String(condition.value ?? 100), interval: condition.interval ?? '1h', action: action.id, webhookUrl: action.webhookUrl ?? '', frequency: String(rule.frequency), environment: rule.environment ?? '' };
}

function bodyOf(draft: Draft) {
  const condition = draft.condition === FREQUENCY ? { id: FREQUENCY, value: Number(draft.value), interval: draft.interval } : { id: draft.condition };
  const action = draft.action === SLACK ? { id: SLACK, webhookUrl: draft.webhookUrl } : draft.action === SERVICE ? { id: SERVICE, service: 'webhooks' } : { id: EMAIL, targetType: 'IssueOwners' };
  return { name: draft.name, actionMatch: 'all', conditions: [condition], actions: [action], frequency: Number(draft.frequency), environment: draft.environment || null };
}

export function AlertRulesPage({ org, project }: { org: string; project: string }) {
  const base = `/projects/${org}/${project}`;
  const rules = useApi<Rule[]>(`${base}/rules/`);
  const deliveries = useApi<Delivery[]>(`${base}/alert-deliveries/?per_page=50`);
  const [editing, setEditing] = useState<string | undefined>();
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [error, setError] = useState<Error | undefined>();
  // Writes are records on the log: the list shows them once the projector has applied them.
  const reloadSoon = () => [300, 1200].forEach((ms) => setTimeout(rules.reload, ms));
  const run = async (work: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await work();
      reloadSoon();
      return true;
    } catch (failure) {
      setError(failure as Error);
      return false;
    }
  };
  const save = async (event: FormEvent) => {
    event.preventDefault();
    const ok = await run(() => (editing ? api('PUT', `${base}/rules/${editing}/`, bodyOf(draft)) : api('POST', `${base}/rules/`, bodyOf(draft))));
    if (ok) {
      setEditing(undefined);
      setDraft(EMPTY);
    }
  };
  const field = (name: keyof Draft) => ({ value: draft[name], onChange: (event: { target: { value: string } }) => setDraft({ ...draft, [name]: event.target.value }) });
  return (
    <Layout org={org} project={project}>
      <h2>Alert rules of {project}</h2>
      <Failure error={rules.error ?? error} />
      <table className="rules">
        <thead>
          <tr><th>Rule</th><th>When</th><th>Then</th><th>Every</th><th>Status</th><th /></tr>
        </thead>
        <tbody>
          {(rules.answer?.data ?? []).map((rule) => (
            <tr key={rule.id} data-rule={rule.id} className={rule.status === 'disabled' ? 'inactive' : undefined}>
              <td>{rule.name}</td>
              <td>{rule.conditions.map((condition) => CONDITION_NAMES[condition.id] ?? condition.id).join(` ${rule.actionMatch} `)}</td>
              <td>{rule.actions.map((action) => ACTION_NAMES[action.id] ?? action.id).join(', ')}</td>
              <td>{rule.frequency} min</td>
              <td>{rule.status}</td>
              <td>
                <button type="button" className="small" onClick={() => { setEditing(rule.id); setDraft(draftOf(rule)); }}>Edit</button>{' '}
                <button type="button" className="small" onClick={() => void run(() => api('PUT', `${base}/rules/${rule.id}/`, { status: rule.status === 'active' ? 'disabled' : 'active' }))}>
                  {rule.status === 'active' ? 'Disable' : 'Enable'}
                </button>{' '}
                <button type="button" className="small" onClick={() => void run(() => api('DELETE', `${base}/rules/${rule.id}/`))}>Delete</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form className="panel rule-form" onSubmit={(event) => void save(event)}>
        <h3>{editing ? `Edit rule ${editing}` : 'New rule'}</h3>
        <label>Name <input required {...field('name')} /></label>
        <label>When <select {...field('condition')}>{Object.entries(CONDITION_NAMES).map(([id, name]) => <option key={id} value={id}>{name}</option>)}</select></label>
        {draft.condition === FREQUENCY && (
          <label>more than <input type="number" min="0" {...field('value')} /> events in <select {...field('interval')}>{['1m', '5m', '15m', '1h', '1d', '1w', '30d'].map((interval) => <option key={interval}>{interval}</option>)}</select></label>
        )}
        <label>Then <select {...field('action')}>{Object.entries(ACTION_NAMES).map(([id, name]) => <option key={id} value={id}>{name}</option>)}</select></label>
        {draft.action === SLACK && <label>Slack webhook URL <input type="url" required {...field('webhookUrl')} /></label>}
        <label>At most every <input type="number" min="5" {...field('frequency')} /> minutes per issue</label>
        <label>Environment <input placeholder="any" {...field('environment')} /></label>
        <button type="submit">{editing ? 'Save' : 'Create'}</button>
        {editing && <button type="button" className="link-button" onClick={() => { setEditing(undefined); setDraft(EMPTY); }}>Cancel</button>}
      </form>
      <h3>Recent deliveries <button type="button" className="small" onClick={deliveries.reload}>Refresh</button></h3>
      <Failure error={deliveries.error} />
      <table className="deliveries">
        <thead>
          <tr><th>Decided</th><th>Rule</th><th>Trigger</th><th>Kind</th><th>Target</th><th>Status</th><th className="number">Attempts</th><th>Last error</th></tr>
        </thead>
        <tbody>
          {(deliveries.answer?.data ?? []).map((delivery) => (
            <tr key={delivery.id} data-status={delivery.status}>
              <td>{dateTime(delivery.dateDecided)}</td>
              <td>{delivery.ruleName}</td>
              <td>{delivery.trigger}</td>
              <td>{delivery.kind}</td>
              <td>{delivery.target}</td>
              <td>{delivery.status}</td>
              <td className="number">{delivery.attempts}</td>
              <td className="error-text">{delivery.lastError ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {deliveries.answer?.data.length === 0 && <p className="empty">Nothing delivered yet.</p>}
    </Layout>
  );
}
