export * from './symbolicate.ts';
export * from './source-urls.ts';
