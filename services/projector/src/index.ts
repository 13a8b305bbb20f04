// The projector's public entry: its consumer, the rebuild it drives (`trapline rebuild`), and the
// derivations of an issue from its events that others repeat (the notifier's issue state, tests).
export { handoverLockName, startProjectorConsumer, type BatchOutcome, type ProjectorConsumerDeps } from './app.ts';
export { rebuild, RebuildError, type RebuildOptions, type RebuildResult } from './rebuild/rebuild.ts';
export { groupHashes } from './domain/grouping.ts';
export { describeIssue, issueId } from './domain/issue.ts';
