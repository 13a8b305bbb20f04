import type { MultipartFile, MultipartValue } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { PostgresBlobStore, sha1Of, type BlobStore } from '@trapline/runtime';
import type { ArtifactBundleAssembled } from '@trapline/schemas';
import { ReleaseReadModel } from '../adapters/releases-read-model.ts';
import { z } from 'zod';
import { refusals, releaseFileAnswer } from '../domain/answers.ts';
import { MAX_REQUEST_SIZE } from '../domain/artifact-bundle.ts';
import { ApiError, NOT_FOUND, type ApiContext, type ZodApp } from './context.ts';
import { projectReleaseParams, releaseParams } from './release-schemas.ts';
import { eventKeys } from '@trapline/schemas';

// The older release-file upload (`…/releases/{version}/files/`, what sentry-cli 1.x's
// `releases files VERSION upload-sourcemaps` calls): one file per request, named `~/path`. It is
// stored as a blob and recorded as a one-file artifact bundle of the release, so lookups (release +
// URL) find it like a file of an uploaded bundle.

const tags = ['source maps'];

interface FileRow { url: string; type: string; blob: string; size: number; source_map: string | null; dist: string | null; assembled_at: Date }

const serializeFile = (file: FileRow): z.infer<typeof releaseFileAnswer> => ({
  id: file.blob,
  name: file.url,
  dist: file.dist,
  headers: file.source_map ? { Sourcemap: file.source_map } : {},
  size: file.size,
  sha1: file.blob,
  dateCreated: file.assembled_at.toISOString(),
});

export function releaseFileRoutes(app: ZodApp, context: ApiContext, blobs: BlobStore = new PostgresBlobStore(context.readModel.pool)): void {
  const { readModel, eventsTopic } = context;
  const releases = new ReleaseReadModel(readModel.pool);

  const target = async (request: FastifyRequest, scope: 'project:read' | 'project:releases') => {
    const token = await context.authenticate(request, scope);
    const { org, project, version } = request.params as { org: string; project?: string; version: string };
    const organization = context.organization(token, org);
    const scoped = project === undefined ? undefined : await context.project(token, org, project);
    const release = await releases.release(organization, version);
    if (!release || (scoped && !release.declared_project_ids.includes(scoped.id) && !release.seen_project_ids.includes(scoped.id))) throw new ApiError(404, NOT_FOUND);
    const projectIds = scoped ? [scoped.id] : [...new Set([...release.declared_project_ids, ...release.seen_project_ids])];
    return { token, org: organization, version, projectIds };
  };

  for (const prefix of ['/api/0/organizations/:org/releases/:version/files/', '/api/0/projects/:org/:project/releases/:version/files/']) {
    const params = prefix.startsWith('/api/0/organizations') ? releaseParams : projectReleaseParams;

    app.get(prefix, { schema: { tags, summary: "A release's files (uploaded one by one or in bundles of the release)", params, response: { 200: z.array(releaseFileAnswer), ...refusals } } }, async (request) => {
      const { version, projectIds } = await target(request, 'project:read');
      const rows = await readModel.pool.query<FileRow>(
        `SELECT DISTINCT ON (url, dist) url, type, blob, size, source_map, dist, assembled_at FROM artifact_files WHERE project_id = ANY($1::bigint[]) AND release = $2
         ORDER BY url, dist, assembled_at DESC`,
        [projectIds, version],
      );
      return rows.rows.map(serializeFile);
    });

    app.post(prefix, { schema: { tags, summary: 'Upload a release file: multipart `file`, `name` (~/path), optional `dist` and `header` (Sourcemap: …)', params, response: { 201: releaseFileAnswer, ...refusals } } }, async (request, reply) => {
      const { token, org, version, projectIds } = await target(request, 'project:releases');
      if (!request.isMultipart()) throw new ApiError(400, 'Upload the file as multipart/form-data');
      let data: Buffer | undefined;
      const fields: Record<string, string[]> = {};
      for await (const part of request.parts({ limits: { fileSize: MAX_REQUEST_SIZE, files: 1 } })) {
        if (part.type === 'file') data = await (part as MultipartFile).toBuffer();
        else fields[part.fieldname] = [...(fields[part.fieldname] ?? []), String((part as MultipartValue).value)];
      }
      const name = fields.name?.[0];
      if (!data) throw new ApiError(400, 'Give the file in the form field `file`');
      if (!name || name.length > 1000 || name.includes('\u0000')) throw new ApiError(400, 'Give the file its URL in the form field `name`, e.g. ~/static/app.min.js');
      const dist = fields.dist?.[0] ?? null;
      const headers = new Map((fields.header ?? []).map((header) => [header.slice(0, header.indexOf(':')).trim().toLowerCase(), header.slice(header.indexOf(':') + 1).trim()]));
      const blob = sha1Of(data);
      await blobs.put([{ sha1: blob, data }]);
      const bundleId = sha1Of(Buffer.from(`release-file\n${version}\n${dist ?? ''}\n${name}\n${blob}`));
      const now = context.now();
      const file = { url: name, type: name.endsWith('.map') ? 'source_map' : 'minified_source', debugId: null, sourceMap: headers.get('sourcemap') ?? headers.get('x-sourcemap') ?? null, blob, size: data.length };
      await context.appendAndAwait(reply, eventsTopic, projectIds.map((projectId) => {
        const value: ArtifactBundleAssembled = { projectId, organizationSlug: org, bundleId, release: version, dist, files: [file], actor: context.actor(token), assembledAt: now };
        return { key: eventKeys.artifactBundle(projectId, bundleId), name: 'ArtifactBundleAssembled' as const, value };
      }));
      return reply.code(201).send(serializeFile({ url: name, type: file.type, blob, size: data.length, source_map: file.sourceMap, dist, assembled_at: new Date(now) }));
    });
  }
}
