import { describe, expect, it } from 'vitest';
import { Codec } from './codec.ts';
import { TOPIC_SPECS, topicNames } from './topics.ts';

describe('the topic declaration', () => {
  it('names every topic under one prefix', () => {
    expect(topicNames('trapline')).toMatchObject({ events: 'trapline.events', admin: 'trapline.admin', audit: 'trapline.audit', deletionsDlq: 'trapline.deletions.dlq' });
  });

  it('compacts the events and admin topics and never deletes audit records', () => {
    expect(TOPIC_SPECS.events.configs['cleanup.policy']).toBe('compact');
    expect(TOPIC_SPECS.admin.configs['cleanup.policy']).toBe('compact');
    expect(TOPIC_SPECS.audit.configs).toMatchObject({ 'cleanup.policy': 'delete', 'retention.ms': '-1' });
  });

  it('declares a topic for every record the codec knows, so no consumer dead-letters a new record by omission', () => {
    const carried = new Set(Object.values(TOPIC_SPECS).flatMap((spec) => spec.records));
    expect(new Codec().known().map((entry) => entry.name).filter((name) => !carried.has(name as never))).toEqual([]);
  });
});
