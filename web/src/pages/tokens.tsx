import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { dateTime } from '../format.ts';
import { Failure, Layout, ShownOnce } from '../layout.tsx';
import { useAction, useApi } from '../use-api.ts';

// The signed-in user's auth tokens (Sentry's /api-tokens/): each acts with the user's role in
// each of their organizations, capped by its scopes. A new token is shown once.

const SCOPES = ['org:read', 'org:write', 'member:read', 'member:write', 'project:read', 'project:write', 'event:read', 'event:write', 'event:admin'];

interface UserToken {
  id: string;
  name: string;
  scopes: string[];
  dateCreated: string;
}

export function TokensPage({ org }: { org: string }) {
  const tokens = useApi<UserToken[]>('/api-tokens/');
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['org:read', 'project:read', 'event:read']);
  const [created, setCreated] = useState<string>();
  const { error, act } = useAction(tokens.reload);
  const create = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => {
      const { data } = await api<{ token: string }>('POST', '/api-tokens/', { name: name.trim() || 'token', scopes });
      setCreated(data.token);
      setName('');
    });
  };
  const toggle = (scope: string) => setScopes((current) => (current.includes(scope) ? current.filter((item) => item !== scope) : [...current, scope]));
  return (
    <Layout org={org}>
      <h2>Personal tokens</h2>
      <form onSubmit={create} aria-label="New token">
        <div className="toolbar">
          <input aria-label="Token name" placeholder="laptop, CI, …" value={name} onChange={(event) => setName(event.target.value)} />
          <button type="submit" disabled={scopes.length === 0}>
            Create token
          </button>
        </div>
        <p className="scopes">
          {SCOPES.map((scope) => (
            <label key={scope}>
              <input type="checkbox" checked={scopes.includes(scope)} onChange={() => toggle(scope)} /> {scope}
            </label>
          ))}
        </p>
      </form>
      {created ? (
        <ShownOnce what="Your new token" value={created} />
      ) : null}
      <Failure error={error ?? tokens.error} />
      <table className="tokens">
        <thead>
          <tr>
            <th>Name</th>
            <th>Scopes</th>
            <th>Created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(tokens.answer?.data ?? []).map((token) => (
            <tr key={token.id}>
              <td>{token.name}</td>
              <td>{token.scopes.join(', ')}</td>
              <td>{dateTime(token.dateCreated)}</td>
              <td>
                <button type="button" className="small danger" onClick={() => void act(() => api('DELETE', `/api-tokens/${token.id}/`))}>
                  Revoke
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}
