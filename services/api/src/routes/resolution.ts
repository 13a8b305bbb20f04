import type { ProjectRow } from '@trapline/runtime';
import type { ReleaseReadModel } from '../adapters/releases-read-model.ts';
import { ApiError } from './context.ts';

// What a resolve names of releases (Sentry's statusDetails): "in the next release" is measured from
// the project's newest release now; "in release X" needs X to exist. Without any release, "next
// release" is a plain resolve (Trapline is lenient where Sentry answers 400).

export interface StatusDetailsBody {
  inRelease?: string | undefined;
  inNextRelease?: boolean | undefined;
}

export interface ReleaseResolution {
  inRelease: string | null;
  inNextRelease: string | null;
  statusDetails: Record<string, unknown>;
}

export async function releaseResolution(releases: ReleaseReadModel, project: ProjectRow, status: string, details: StatusDetailsBody | undefined): Promise<ReleaseResolution> {
  const none = { inRelease: null, inNextRelease: null, statusDetails: {} };
  if (details?.inRelease !== undefined) {
    const version = details.inRelease === 'latest' ? (await releases.latestRelease(project.organization_slug, project.id))?.version : details.inRelease;
    const release = version === undefined ? undefined : await releases.release(project.organization_slug, version);
    if (!release) throw new ApiError(400, `Unable to find the given release: ${details.inRelease}`);
    return { inRelease: release.version, inNextRelease: null, statusDetails: { inRelease: release.version } };
  }
  if (status === 'resolvedInNextRelease' || details?.inNextRelease === true) {
    const latest = await releases.latestRelease(project.organization_slug, project.id);
    return latest ? { inRelease: null, inNextRelease: latest.version, statusDetails: { inNextRelease: true } } : none;
  }
  return none;
}
