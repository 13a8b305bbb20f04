-- Up Migration
-- Where the projector stands in each partition it consumes: the next offset to apply, written in
-- the transaction of each batch (so it never runs ahead of the read models, as the consumer
-- group's committed offset may lag behind them). `trapline rebuild` reads it to hand the running
-- projector over to the rebuilt tables with no record missed; the consumer group stays the
-- operators' interface to offsets.
CREATE TABLE projector_positions (
  topic text NOT NULL,
  partition integer NOT NULL,
  next_offset bigint NOT NULL,
  PRIMARY KEY (topic, partition)
);

-- The offset (in its project's partition of the events topic) of the record that last set an
-- issue's status: the event that made the issue, a status change, or the event that reopened a
-- resolved issue. A status change older than it is one applied again (redelivered, or replayed
-- after a reset of the group's offsets), so it leaves the status alone: replaying [resolve, new
-- event] must not leave the issue resolved because the event, already stored, is skipped. The
-- offsets of one partition only compare: a project moved to another partition (the topic's
-- partitions changed) needs a new topic and a rebuild anyway. -1: issues from before this column.
ALTER TABLE groups ADD COLUMN status_offset bigint NOT NULL DEFAULT -1;

-- Down Migration
ALTER TABLE groups DROP COLUMN status_offset;
DROP TABLE projector_positions;
