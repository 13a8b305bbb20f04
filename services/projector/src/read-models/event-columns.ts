// The columns of an events row, as both the per-batch path and the bulk load write them (in this
// order). A module of its own: the bulk load's parse workers write the rows too, and load nothing
// that needs Kafka's client or Postgres.

export const EVENT_COLUMNS = 'project_id, event_id, group_id, received_at, occurred_at, level, platform, title, message, release, environment, user_ident, pending_deletion, payload, tag_keys, tag_values';

/** How many they are (a binary COPY row starts with it). */
export const EVENT_FIELDS = EVENT_COLUMNS.split(',').length;
