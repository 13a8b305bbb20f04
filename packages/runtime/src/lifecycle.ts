import type { Logger } from './logger.ts';

export interface Service {
  stop(): Promise<void>;
}

/**
 * The tail of every runner: start, then stop cleanly on SIGTERM/SIGINT (flush producers, commit
 * offsets, close pools) and exit non-zero when starting fails.
 */
export async function runService(logger: Logger, start: () => Promise<Service>): Promise<void> {
  let service: Service;
  try {
    service = await start();
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      logger.error('stop timed out');
      process.exit(1);
    }, 15000);
    try {
      await service.stop();
      clearTimeout(timer);
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'failed to stop cleanly');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
