import { parentPort } from 'node:worker_threads';
import { Codec } from '@trapline/schemas';
import { parseBulkEvent, type RawBatch } from './bulk-parse.ts';

// A worker of BulkParsers (bulk-parse.ts): parses each batch it is sent and answers with its id.

const codec = new Codec();
parentPort!.on('message', ({ id, batch }: { id: number; batch: RawBatch }) => {
  parentPort!.postMessage({ id, parsed: batch.records.map((record) => parseBulkEvent(codec, record, batch.bytes)) });
});
