import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from './postgres.ts';

// Content-addressed blobs (source maps, minified files, upload chunks), addressed by SHA-1 as
// sentry-cli addresses its chunks. Postgres by default; the interface is all a store must offer,
// so an S3-compatible one can stand in. Writes are idempotent (same address, same bytes).

export interface BlobStore {
  put(blobs: { sha1: string; data: Buffer }[]): Promise<void>;
  get(sha1: string): Promise<Buffer | undefined>;
  /** Which of these addresses are stored. */
  has(sha1s: string[]): Promise<Set<string>>;
}

export const sha1Of = (data: Buffer | Uint8Array) => createHash('sha1').update(data).digest('hex');

export class PostgresBlobStore implements BlobStore {
  constructor(private readonly pool: Pick<Pool | PoolClient, 'query'>) {}

  async put(blobs: { sha1: string; data: Buffer }[]): Promise<void> {
    if (blobs.length === 0) return;
    await this.pool.query(
      `INSERT INTO trapline_blobs.blobs (sha1, size, data) SELECT * FROM unnest($1::text[], $2::int[], $3::bytea[]) ON CONFLICT (sha1) DO NOTHING`,
      [blobs.map((blob) => blob.sha1), blobs.map((blob) => blob.data.length), blobs.map((blob) => blob.data)],
    );
  }

  async get(sha1: string): Promise<Buffer | undefined> {
    return (await this.pool.query<{ data: Buffer }>('SELECT data FROM trapline_blobs.blobs WHERE sha1 = $1', [sha1])).rows[0]?.data;
  }

  async has(sha1s: string[]): Promise<Set<string>> {
    const result = await this.pool.query<{ sha1: string }>('SELECT sha1 FROM trapline_blobs.blobs WHERE sha1 = ANY($1::text[])', [sha1s]);
    return new Set(result.rows.map((row) => row.sha1));
  }
}
