import { describe, expect, it } from 'vitest';
import { partitionFor } from './kafka.ts';

describe('partitioning by project', () => {
  it('sends every record of a project to one partition', () => {
    const partitions = new Set(Array.from({ length: 50 }, (_, index) => partitionFor(`42/${index.toString(16).padStart(32, '0')}`, 6)));
    expect(partitions.size).toBe(1);
    expect(partitionFor('42', 6)).toBe([...partitions][0]);
  });

  it('spreads projects over the partitions', () => {
    const partitions = new Set(Array.from({ length: 100 }, (_, project) => partitionFor(`${project}/x`, 6)));
    expect(partitions.size).toBe(6);
  });
});
