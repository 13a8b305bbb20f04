import { createLogger, readConfig, runService } from '@trapline/runtime';
import { buildGateway } from './app.ts';

const config = readConfig();
const logger = createLogger('gateway', config.LOG_LEVEL);

await runService(logger, async () => {
  const app = buildGateway(config.ingestUrl, config.apiUrl);
  await app.listen({ host: config.HOST, port: config.GATEWAY_PORT });
  return { stop: () => app.close() };
});
