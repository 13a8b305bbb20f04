import { z } from 'zod';
import { orgParams, projectParams } from './schemas.ts';

// Request schemas of the release API (sentry-cli's releases, deploys and set-commits calls).

const text = () => z.string().regex(/^[^\u0000]*$/, 'must not contain NUL characters');
/** A time as sentry-cli sends it (RFC 3339, any fraction of a second). */
const time = text().max(64).refine((value) => !Number.isNaN(Date.parse(value)), 'must be an ISO 8601 time');
const slugList = z.array(text().min(1).max(100)).max(100);

export const releaseParams = orgParams.extend({ version: text().min(1).max(200).describe('release version') });
export const projectReleaseParams = projectParams.extend({ version: releaseParams.shape.version });
export const releaseListQuery = z.object({
  cursor: z.union([z.literal(''), z.string().regex(/^\d+:\d+:[01]$/)]).optional(),
  per_page: z.string().regex(/^(100|[1-9]\d?)$/).optional(),
  project: z.union([z.string().regex(/^\d{1,16}$/), z.array(z.string().regex(/^\d{1,16}$/))]).optional().describe('project id'),
  query: text().max(200).optional().describe('part of the version'),
});

const commit = z.looseObject({
  id: text().min(1).max(64),
  repository: text().max(200).nullable().optional(),
  message: text().max(10000).nullable().optional(),
  author_name: text().max(200).nullable().optional(),
  author_email: text().max(200).nullable().optional(),
  timestamp: time.nullable().optional(),
});
const ref = z.looseObject({ repository: text().min(1).max(200), commit: text().min(1).max(64), previousCommit: text().max(64).nullable().optional() });

const releaseFields = {
  projects: slugList.optional(),
  ref: text().max(200).nullable().optional(),
  url: text().max(1000).nullable().optional(),
  dateStarted: time.nullable().optional(),
  dateReleased: time.nullable().optional(),
  commits: z.array(commit).max(1000).optional(),
  refs: z.array(ref).max(100).optional(),
  // open or archived, checked after authorization (a body valid for another route is no reason to skip it).
  status: text().max(20).optional(),
};

export const releaseCreateBody = z.looseObject({ version: text().min(1).max(200), ...releaseFields });
export const releaseUpdateBody = z.looseObject(releaseFields);

export const deployBody = z.looseObject({
  environment: text().min(1).max(64),
  name: text().max(200).nullable().optional(),
  url: text().max(1000).nullable().optional(),
  dateStarted: time.nullable().optional(),
  dateFinished: time.nullable().optional(),
  projects: slugList.nullable().optional(),
});

export const repositoryBody = z.looseObject({
  name: text().min(1).max(200),
  url: text().max(1000).nullable().optional(),
  provider: text().max(100).nullable().optional(),
});

export const toTime = (value: string | null | undefined) => (value === undefined ? undefined : value === null ? null : Date.parse(value));
