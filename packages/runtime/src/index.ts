export * from './config.ts';
export * from './logger.ts';
export * from './metrics.ts';
export * from './kafka.ts';
export * from './postgres.ts';
export * from './redis.ts';
export * from './lifecycle.ts';
