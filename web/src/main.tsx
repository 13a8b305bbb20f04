import { StrictMode, useReducer } from 'react';
import { createRoot } from 'react-dom/client';
import { session } from './api.ts';
import { Layout } from './layout.tsx';
import { AlertRulesPage } from './pages/alert-rules.tsx';
import { AcceptInvitePage } from './pages/accept-invite.tsx';
import { AuditLogPage } from './pages/audit-log.tsx';
import { Home } from './pages/home.tsx';
import { IssuePage } from './pages/issue.tsx';
import { IssuesPage } from './pages/issues.tsx';
import { MembersPage } from './pages/members.tsx';
import { ProjectsPage } from './pages/projects.tsx';
import { ReleasesPage } from './pages/releases.tsx';
import { TokensPage } from './pages/tokens.tsx';
import { SignIn } from './pages/sign-in.tsx';
import { matchPath, useLocation } from './router.tsx';
import './style.css';

// The pages by path. The issue page's path is the API's issue `permalink`.

function App() {
  const { path } = useLocation();
  const [, signedIn] = useReducer((count: number) => count + 1, 0);
  let params: Record<string, string> | undefined;
  if ((params = matchPath('/accept/:memberId/:token/', path))) return <AcceptInvitePage memberId={params.memberId!} token={params.token!} />;
  if (!session.signedIn()) return <SignIn onSignedIn={signedIn} />;
  if ((params = matchPath('/organizations/:org/projects/:project/issues/', path))) return <IssuesPage key={`${params.org}/${params.project}`} org={params.org!} project={params.project!} />;
  if ((params = matchPath('/organizations/:org/projects/:project/alerts/rules/', path))) return <AlertRulesPage key={`${params.org}/${params.project}`} org={params.org!} project={params.project!} />;
  if ((params = matchPath('/organizations/:org/issues/:id/', path))) return <IssuePage key={params.id} org={params.org!} id={params.id!} />;
  if ((params = matchPath('/organizations/:org/audit-log/', path))) return <AuditLogPage org={params.org!} />;
  if ((params = matchPath('/organizations/:org/projects/', path))) return <ProjectsPage org={params.org!} />;
  if ((params = matchPath('/organizations/:org/releases/', path))) return <ReleasesPage org={params.org!} />;
  if ((params = matchPath('/organizations/:org/members/', path))) return <MembersPage org={params.org!} />;
  if ((params = matchPath('/organizations/:org/tokens/', path))) return <TokensPage org={params.org!} />;
  if (path === '/') return <Home />;
  return (
    <Layout org="">
      <p className="error">No page at {path}.</p>
    </Layout>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
