/**
 * Gathers the calls made within one turn of the event loop (the requests whose bytes arrived
 * together, the appends one Kafka ack released) and runs them as one: a Redis round trip for many
 * requests instead of one each. `run` answers the inputs in their order. Unlike ioredis'
 * auto-pipelining, a turn's batch never waits for the previous batch's answer, so a call costs
 * one round trip, not up to two.
 */
export function perTurn<I, O>(run: (inputs: I[]) => Promise<O[]>): (input: I) => Promise<O> {
  let queued: { input: I; resolve: (output: O) => void; reject: (error: unknown) => void }[] | undefined;
  const flush = () => {
    const batch = queued!;
    queued = undefined;
    Promise.resolve()
      .then(() => run(batch.map((entry) => entry.input)))
      .then(
        (outputs) => batch.forEach((entry, index) => entry.resolve(outputs[index]!)),
        (error: unknown) => batch.forEach((entry) => entry.reject(error)),
      );
  };
  return (input) =>
    new Promise((resolve, reject) => {
      if (!queued) {
        queued = [];
        setImmediate(flush);
      }
      queued.push({ input, resolve, reject });
    });
}
