import type { Socket } from 'node:net';
import type { PoolClient } from '@trapline/runtime';
import { copyFromStdin, type RowChunks } from './copy-rows.ts';

// COPY … FROM STDIN for the per-batch path: the rows a read model wrote into a CopyRows or a
// BinaryRows (COPY's text or binary format) sent on the batch's own connection, inside its transaction.
// Postgres refuses a bad row with the same errors (codes 22…/23…) as an INSERT, so a refused run
// falls back to its records one by one as before.
//
// A query object of the driver's own protocol (pg's "submittable"), not pg-copy-streams' stream:
// the rows are in memory already, so all of them go at once when Postgres asks for them, then the
// end; the socket buffers what it cannot send yet. Postgres drops whatever copy data follows an
// error in a COPY and answers the next query as usual. (pg-copy-streams forgets its connection
// on an error and then, when the socket drains, writes to it: a TypeError, uncaught.)

interface Connection {
  stream: Socket;
  query(text: string): void;
}

const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]);

class CopyIn {
  constructor(
    private readonly text: string,
    private readonly chunks: Buffer[],
    private readonly done: (error?: Error) => void,
  ) {}

  /** Set by the driver (its read timeout wraps it); the answer comes through `done`. */
  callback(): void {}

  submit(connection: Connection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: Connection): void {
    const socket = connection.stream;
    for (const chunk of this.chunks) {
      const header = Buffer.allocUnsafe(5);
      header[0] = 0x64; // CopyData
      header.writeUInt32BE(chunk.length + 4, 1);
      socket.write(header);
      socket.write(chunk);
    }
    socket.write(COPY_DONE);
  }

  handleCommandComplete(): void {}

  /** The COPY's rows are in (the driver calls this only after a success). */
  handleReadyForQuery(): void {
    this.done();
  }

  handleError(error: Error): void {
    this.done(error);
  }
}

/** Sends `rows` (emptied) into `target` (`table (columns)`); nothing when it holds none. */
export async function copyInto(db: PoolClient, target: string, rows: RowChunks): Promise<void> {
  if (rows.rows === 0) return;
  const { statement, data } = copyFromStdin(target, rows.binary, rows.take());
  await new Promise<void>((resolve, reject) => {
    db.query(new CopyIn(statement, data, (error) => (error ? reject(error) : resolve())) as never);
  });
}
