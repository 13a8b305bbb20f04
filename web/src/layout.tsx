import type { ReactNode } from 'react';
import { api, session } from './api.ts';
import { Link, navigate } from './router.tsx';
import { SystemHealthBanner } from './system-health.tsx';

export function Layout({ org, project, children }: { org: string; project?: string | undefined; children: ReactNode }) {
  const signOut = async () => {
    if (!session.token()) await api('DELETE', '/auth/').catch(() => undefined);
    session.signOut();
    navigate('/');
  };
  const issues = project ? `/organizations/${org}/projects/${project}/issues/` : '/';
  return (
    <>
      <header className="top">
        <Link to="/" className="brand">
          Trapline
        </Link>
        <nav>
          <Link to={issues}>Issues</Link>
          <Link to={`/organizations/${org}/projects/`}>Projects &amp; keys</Link>
          <Link to={`/organizations/${org}/releases/`}>Releases</Link>
          <Link to={`/organizations/${org}/audit-log/`}>Audit log</Link>
          <Link to={`/organizations/${org}/members/`}>Members</Link>
          {session.token() ? null : <Link to={`/organizations/${org}/tokens/`}>Tokens</Link>}
        </nav>
        <span className="org">{org}</span>
        {session.userName() ? <span className="user">{session.userName()}</span> : null}
        <button type="button" className="link-button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <SystemHealthBanner />
      <main>{children}</main>
    </>
  );
}

export function Failure({ error }: { error: Error | undefined }) {
  return error ? (
    <p className="error" role="alert">
      {error.message}
    </p>
  ) : null;
}

/** A secret the API shows once (an invitation link, a new token): copy it now. */
export function ShownOnce({ what, value }: { what: string; value: string }) {
  return (
    <p className="shown-once">
      {what} (shown only now): <code>{value}</code>
    </p>
  );
}
