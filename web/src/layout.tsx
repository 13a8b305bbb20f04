import type { ReactNode } from 'react';
import { session } from './api.ts';
import { Link, navigate } from './router.tsx';
import { SystemHealthBanner } from './system-health.tsx';

export function Layout({ org, project, children }: { org: string; project?: string | undefined; children: ReactNode }) {
  const signOut = () => {
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
        </nav>
        <span className="org">{org}</span>
        <button type="button" className="link-button" onClick={signOut}>
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
