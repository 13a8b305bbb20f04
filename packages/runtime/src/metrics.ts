import { Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per service process, with the process metrics (RSS, event loop lag, GC). */
export function createMetrics(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
