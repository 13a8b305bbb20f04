import { describe, expect, it } from 'vitest';
import { droppedItem } from './dropped-items.ts';

describe('envelope items ingest does not store', () => {
  it.each([
    ['transaction', { type: 'transaction', reason: 'unsupported' }],
    ['session', { type: 'session', reason: 'unsupported' }],
    ['attachment', { type: 'attachment', reason: 'unsupported' }],
    ['client_report', { type: 'client_report', reason: 'unsupported' }],
    ['made_up_type', { type: 'other', reason: 'unknown_type' }],
    ['Transaction', { type: 'other', reason: 'unknown_type' }],
    ['', { type: 'other', reason: 'unknown_type' }],
  ])('%j counts as %j', (type, expected) => {
    expect(droppedItem(type)).toEqual(expected);
  });
});
