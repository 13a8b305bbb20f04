import { parentPort } from 'node:worker_threads';
import { Codec } from '@trapline/schemas';
import { parseBatch, type RawBatch } from './bulk-parse.ts';

// A worker of BulkParsers (bulk-parse.ts): parses each batch it is sent and answers with its id.

const codec = new Codec();
parentPort!.on('message', ({ id, batch }: { id: number; batch: RawBatch }) => {
  const parsed = parseBatch(codec, batch);
  parentPort!.postMessage({ id, parsed }, [parsed.rows.bytes.buffer as ArrayBuffer, parsed.rows.marks.buffer as ArrayBuffer]);
});
