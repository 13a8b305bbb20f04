export * from './records.ts';
export * from './topics.ts';
export * from './codec.ts';
export * from './event.ts';
export * from './allowed-origins.ts';
export * from './culprit.ts';
export * from './alert-rules.ts';
export * from './email-targets.ts';
