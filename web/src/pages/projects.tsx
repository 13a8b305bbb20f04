import { useState } from 'react';
import { dateTime } from '../format.ts';
import { Failure, Layout } from '../layout.tsx';
import { Link } from '../router.tsx';
import { SDK_NAMES, SDKS, setupSnippet, type Sdk } from '../sdk-snippets.ts';
import type { Project, ProjectKey } from '../types.ts';
import { useApi } from '../use-api.ts';

// Projects and their DSN keys: the DSN to copy and the few lines that point an SDK at it.

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(text);
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <button type="button" className="small" onClick={() => void copy().catch(() => setCopied(false))}>
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}

function KeyView({ projectKey }: { projectKey: ProjectKey }) {
  const [sdk, setSdk] = useState<Sdk>('node');
  const dsn = projectKey.dsn.public;
  return (
    <div className={`key ${projectKey.isActive ? '' : 'inactive'}`} data-key={projectKey.id}>
      <div className="key-head">
        <strong>{projectKey.name}</strong> <span className="muted">created {dateTime(projectKey.dateCreated)}</span>
        {!projectKey.isActive && <span className="badge">revoked</span>}
      </div>
      <div className="dsn">
        <code className="dsn-value">{dsn}</code> <CopyButton text={dsn} />
      </div>
      <div className="tabs" role="tablist">
        {SDKS.map((candidate) => (
          <button key={candidate} type="button" role="tab" aria-selected={sdk === candidate} className={sdk === candidate ? 'active' : undefined} onClick={() => setSdk(candidate)}>
            {SDK_NAMES[candidate]}
          </button>
        ))}
      </div>
      <pre className="snippet">{setupSnippet(sdk, dsn)}</pre>
    </div>
  );
}

function ProjectKeys({ org, project }: { org: string; project: Project }) {
  const keys = useApi<ProjectKey[]>(`/projects/${org}/${project.slug}/keys/`);
  return (
    <section className="panel project" data-project={project.slug}>
      <h3>
        <Link to={`/organizations/${org}/projects/${project.slug}/issues/`}>{project.name}</Link> <span className="muted">({project.slug}, id {project.id})</span>{' '}
        <Link to={`/organizations/${org}/projects/${project.slug}/alerts/rules/`} className="small">Alert rules</Link>
      </h3>
      <Failure error={keys.error} />
      {(keys.answer?.data ?? []).map((key) => (
        <KeyView key={key.id} projectKey={key} />
      ))}
      {keys.answer?.data.length === 0 && <p className="muted">No DSN keys: `trapline keys create {project.id}` makes one.</p>}
    </section>
  );
}

export function ProjectsPage({ org }: { org: string }) {
  const projects = useApi<Project[]>(`/organizations/${org}/projects/`);
  return (
    <Layout org={org} project={projects.answer?.data[0]?.slug}>
      <h2>Projects &amp; DSN keys</h2>
      <Failure error={projects.error} />
      {(projects.answer?.data ?? []).map((project) => (
        <ProjectKeys key={project.id} org={org} project={project} />
      ))}
    </Layout>
  );
}
