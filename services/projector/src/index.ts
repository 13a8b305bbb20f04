// The projector's public entry: its consumer and the hand-over lock (for `trapline rebuild`), the
// bulk load of a rebuild, and the derivations of an issue from its events that others repeat
// (the notifier's issue state, the rebuild's tests).
export { handoverLockName, startProjectorConsumer, type BatchOutcome, type ProjectorConsumerDeps } from './app.ts';
export { BulkLoader, type BulkFigures } from './adapters/bulk.ts';
export { groupHashes } from './domain/grouping.ts';
export { describeIssue, issueId } from './domain/issue.ts';
