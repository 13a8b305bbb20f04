// Ingest's public entry: its app, for a process that serves it (main.ts is the one that does).
export { buildIngestApp, type IngestDeps } from './app.ts';
