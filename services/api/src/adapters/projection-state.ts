import type { Admin, Pool } from '@trapline/runtime';
import type { ProjectionState } from '../domain/projection-health.ts';

/**
 * The projector's consumer group (live members) and its lag behind the log, measured where the
 * read models stand (`projector_positions`, written in each batch's transaction) against the
 * topics' end offsets. A killed projector stays a member until its session times out.
 */
export function projectionState(admin: Admin, pool: Pool, group: string, topics: string[]): () => Promise<ProjectionState> {
  return async () => {
    const [description, ends, positions] = await Promise.all([
      admin.describeGroups([group]),
      Promise.all(topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) }))),
      pool.query<{ topic: string; partition: number; next_offset: string }>('SELECT topic, partition, next_offset FROM projector_positions WHERE topic = ANY($1)', [topics]),
    ]);
    const at = new Map(positions.rows.map((row) => [`${row.topic}/${row.partition}`, Number(row.next_offset)]));
    let lag = 0;
    for (const { topic, offsets } of ends) {
      for (const partition of offsets) {
        const from = at.get(`${topic}/${partition.partition}`) ?? Number(partition.low);
        lag += Math.max(0, Number(partition.high) - from);
      }
    }
    return { members: description.groups[0]?.members.length ?? 0, lag };
  };
}
