import { describe, expect, it } from 'vitest';
import { kafkaClusterId } from './kafka.ts';

describe('kafkaClusterId', () => {
  it('is what `kafka-storage random-uuid` prints: 16 bytes in URL-safe base64 without padding, never an option-like leading dash', () => {
    for (let i = 0; i < 2000; i += 1) {
      const id = kafkaClusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });
});
