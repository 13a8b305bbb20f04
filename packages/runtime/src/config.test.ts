import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSchema, readConfig } from './config.ts';
import { topicPartitions } from './provision.ts';

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

  it('overrides the declared partitions only of the topics it names', () => {
    expect(topicPartitions(readConfig({}))).toEqual({});
    expect(topicPartitions(readConfig({ KAFKA_EVENTS_PARTITIONS: '12' }))).toEqual({ events: 12 });
    expect(topicPartitions(readConfig({ KAFKA_DELETIONS_PARTITIONS: '4' }))).toEqual({ deletionsDelay: 4, deletionsRun: 4, deletionsRetry: 4 });
  });

  it.each([
    ['no partitions', { KAFKA_EVENTS_PARTITIONS: '0' }, /KAFKA_EVENTS_PARTITIONS/],
    ['a port out of range', { API_PORT: '70000' }, /API_PORT/],
    ['a prefix Kafka would refuse', { KAFKA_TOPIC_PREFIX: 'a b' }, /KAFKA_TOPIC_PREFIX/],
    ['an unknown log level', { LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  ])('refuses %s with the variable named', (_case, env, message) => {
    expect(() => readConfig(env)).toThrow(ConfigError);
    expect(() => readConfig(env)).toThrow(message);
  });
});

describe('the README configuration table', () => {
  it('has a row for every variable the configuration reads', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    // A row's first cell names one variable or several (`A`, `B`).
    const firstCells = [...readme.matchAll(/^\| (`[A-Z][A-Z0-9_]+`[^|]*)\|/gm)].map((match) => match[1]!);
    const rows = new Set(firstCells.flatMap((cell) => [...cell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1])));
    expect(Object.keys(configSchema.shape).filter((name) => !rows.has(name))).toEqual([]);
  });
});
