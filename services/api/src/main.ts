import { createLogger, createMetrics, createPool, readConfig, runService } from '@trapline/runtime';
import { ReadModel } from './adapters/read-model.ts';
import { buildApiApp } from './app.ts';

const config = readConfig();
const logger = createLogger('api', config.LOG_LEVEL);

await runService(logger, async () => {
  const pool = createPool(config.DATABASE_URL, 10);
  const app = buildApiApp({ readModel: new ReadModel(pool), publicUrl: config.PUBLIC_URL, logger, metrics: createMetrics('api') });
  await app.listen({ host: config.HOST, port: config.API_PORT });
  return {
    stop: async () => {
      await app.close();
      await pool.end();
    },
  };
});
