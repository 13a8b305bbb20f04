import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from './config.ts';

describe('configuration', () => {
  it('has defaults that match the local stack', () => {
    const config = readConfig({});
    expect(config.kafkaBrokers).toEqual(['127.0.0.1:19092']);
    expect(config.projectorGroup).toBe('trapline.projector');
    expect(config.ingestUrl).toBe('http://127.0.0.1:9001');
  });

  it('derives topic-scoped names from the prefix', () => {
    expect(readConfig({ KAFKA_TOPIC_PREFIX: 'staging', KAFKA_BROKERS: 'a:1, b:2' })).toMatchObject({ projectorGroup: 'staging.projector', kafkaBrokers: ['a:1', 'b:2'] });
  });

  it.each([
    ['a port out of range', { API_PORT: '70000' }, /API_PORT/],
    ['a prefix Kafka would refuse', { KAFKA_TOPIC_PREFIX: 'a b' }, /KAFKA_TOPIC_PREFIX/],
    ['an unknown log level', { LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  ])('refuses %s with the variable named', (_case, env, message) => {
    expect(() => readConfig(env)).toThrow(ConfigError);
    expect(() => readConfig(env)).toThrow(message);
  });
});
