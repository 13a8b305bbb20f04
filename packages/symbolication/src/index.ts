export * from './symbolicate.ts';
export * from './source-urls.ts';
export * from './source-maps.ts';
