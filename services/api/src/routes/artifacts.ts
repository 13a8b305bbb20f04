import type { MultipartFile } from '@fastify/multipart';
import { z } from 'zod';
import { PostgresBlobStore, sha1Of, type BlobStore } from '@trapline/runtime';
import type { ArtifactBundleAssembled } from '@trapline/schemas';
import { CHUNK_SIZE, chunkUploadOptions, MAX_BUNDLE_SIZE, readArtifactBundle, readChunk } from '../domain/artifact-bundle.ts';
import { assembleAnswer, chunkUploadAnswer, refusals } from '../domain/answers.ts';
import { ApiError, type ApiContext, type ZodApp } from './context.ts';
import { orgParams } from './schemas.ts';
import { eventKeys } from '@trapline/schemas';

// Source map upload as current sentry-cli does it: chunks addressed by SHA-1 (gzip) go to the
// blob store, then an artifact bundle is assembled from them. Assembly stores the bundle's files
// as blobs first and then appends one ArtifactBundleAssembled record per project to the events
// topic: a bundle is findable once its record is projected, and never half of one.

const tags = ['source maps'];
const sha1 = z.string().regex(/^[0-9a-f]{40}$/, 'must be a SHA-1 (40 lowercase hex digits)');

export const assembleBody = z.looseObject({
  checksum: sha1,
  chunks: z.array(sha1).min(1).max(Math.ceil(MAX_BUNDLE_SIZE / CHUNK_SIZE) * 4),
  projects: z.array(z.string().min(1).max(100)).min(1).max(100),
  version: z.string().min(1).max(200).regex(/^[^\u0000]*$/).optional(),
  dist: z.string().min(1).max(64).regex(/^[^\u0000]*$/).optional(),
});

export function artifactRoutes(app: ZodApp, context: ApiContext, blobs: BlobStore = new PostgresBlobStore(context.readModel.pool)): void {
  const { readModel, eventsTopic, publicUrl } = context;

  app.get('/api/0/organizations/:org/chunk-upload/', { schema: { tags, summary: 'Chunk upload options (sentry-cli reads them first)', params: orgParams, response: { 200: chunkUploadAnswer, ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'project:releases');
    const org = context.organization(token, request.params.org);
    return chunkUploadOptions(`${publicUrl}/api/0/organizations/${org}/chunk-upload/`);
  });

  app.post('/api/0/organizations/:org/chunk-upload/', { schema: { tags, summary: 'Upload chunks: multipart parts file_gzip (or file) named by their SHA-1', params: orgParams, response: { 200: z.looseObject({}), ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'project:releases');
    context.organization(token, request.params.org);
    if (!request.isMultipart()) throw new ApiError(400, 'Upload chunks as multipart/form-data');
    const chunks: { sha1: string; data: Buffer }[] = [];
    for await (const part of request.parts()) {
      if (part.type !== 'file') continue;
      const file = part as MultipartFile;
      const chunk = readChunk(file.fieldname, file.filename, await file.toBuffer(), sha1Of);
      if (!chunk.ok) throw new ApiError(chunk.status, chunk.detail);
      chunks.push(chunk);
    }
    // Checked as a whole first: a request with one bad chunk stores none of them.
    await blobs.put(chunks);
    return {};
  });

  app.post('/api/0/organizations/:org/artifactbundle/assemble/', { schema: { tags, summary: 'Assemble an artifact bundle from uploaded chunks', params: orgParams, body: assembleBody, response: { 200: assembleAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:releases');
    const org = context.organization(token, request.params.org);
    const { checksum, chunks, projects: slugs, version, dist } = request.body;
    const known = await readModel.projects(org);
    const projects = slugs.map((slug) => known.find((project) => project.slug === slug || String(project.id) === slug));
    if (projects.some((project) => project === undefined)) throw new ApiError(400, `Invalid project slugs: ${slugs.filter((_, index) => !projects[index]).join(', ')}`);
    if (chunks.length * CHUNK_SIZE > MAX_BUNDLE_SIZE * 2) throw new ApiError(413, `bundle larger than ${MAX_BUNDLE_SIZE} bytes`);
    const present = await blobs.has([...new Set(chunks)]);
    const missing = [...new Set(chunks.filter((chunk) => !present.has(chunk)))];
    if (missing.length > 0) return { state: 'not_found', missingChunks: missing, detail: null };
    const parts = await Promise.all(chunks.map((chunk) => blobs.get(chunk)));
    const bundle = Buffer.concat(parts.map((part) => part!));
    if (bundle.length > MAX_BUNDLE_SIZE) return reply.code(413).send({ detail: `bundle larger than ${MAX_BUNDLE_SIZE} bytes`, state: 'error', missingChunks: [] });
    if (sha1Of(bundle) !== checksum) return { state: 'error', missingChunks: [], detail: 'the chunks do not add up to the checksum' };
    const read = readArtifactBundle(bundle);
    if (!read.ok) return { state: 'error', missingChunks: [], detail: read.detail };
    const files = read.files.map((file) => ({ ...file, blob: sha1Of(file.data) }));
    await blobs.put(files.map((file) => ({ sha1: file.blob, data: file.data })));
    const now = context.now();
    await context.appendAndAwait(
      reply,
      eventsTopic,
      projects.map((project) => {
        const value: ArtifactBundleAssembled = {
          projectId: project!.id, organizationSlug: org, bundleId: checksum, release: version ?? read.release, dist: dist ?? read.dist, actor: context.actor(token), assembledAt: now,
          files: files.map((file) => ({ url: file.url, type: file.type, debugId: file.debugId, sourceMap: file.sourceMap, blob: file.blob, size: file.data.length })),
        };
        return { key: eventKeys.artifactBundle(project!.id, checksum), name: 'ArtifactBundleAssembled' as const, value };
      }),
    );
    return { state: 'ok', missingChunks: [], detail: null };
  });
}
