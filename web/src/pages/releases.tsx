import { dateTime } from '../format.ts';
import { Failure, Layout } from '../layout.tsx';
import { Link } from '../router.tsx';
import type { Release } from '../types.ts';
import { useApi } from '../use-api.ts';

// The organization's releases (sentry-cli releases new / finalize / deploys new, and the releases
// events report): when each was made and released, its projects, the issues first seen in it, its
// commits and its last deploy.

export function ReleasesPage({ org }: { org: string }) {
  const releases = useApi<Release[]>(`/organizations/${org}/releases/?per_page=100`);
  return (
    <Layout org={org}>
      <h2>Releases</h2>
      <Failure error={releases.error} />
      <table className="releases">
        <thead>
          <tr>
            <th>Version</th>
            <th>Projects</th>
            <th>Created</th>
            <th>Released</th>
            <th className="number">New issues</th>
            <th className="number">Commits</th>
            <th>Last deploy</th>
            <th>Last event</th>
          </tr>
        </thead>
        <tbody>
          {(releases.answer?.data ?? []).map((release) => (
            <tr key={release.version} data-version={release.version}>
              <td>
                <code title={release.version}>{release.shortVersion}</code>
              </td>
              <td>
                {release.projects.map((project) => (
                  <Link key={project.slug} to={`/organizations/${org}/projects/${project.slug}/issues/?query=${encodeURIComponent(`release:${release.version}`)}`}>
                    {project.slug}
                  </Link>
                ))}
              </td>
              <td>{dateTime(release.dateCreated)}</td>
              <td>{release.dateReleased ? dateTime(release.dateReleased) : <span className="muted">not finalized</span>}</td>
              <td className="number">{release.newGroups}</td>
              <td className="number" title={release.lastCommit?.id ?? ''}>{release.commitCount}</td>
              <td>{release.lastDeploy ? `${release.lastDeploy.environment} · ${dateTime(release.lastDeploy.dateFinished)}` : <span className="muted">none</span>}</td>
              <td>{release.lastEvent ? dateTime(release.lastEvent) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {releases.answer && releases.answer.data.length === 0 && <p className="muted">No releases yet: sentry-cli releases new, or an SDK's release option, make them.</p>}
    </Layout>
  );
}
