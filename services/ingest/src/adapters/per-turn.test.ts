import { describe, expect, it } from 'vitest';
import { perTurn } from './per-turn.ts';

describe('perTurn', () => {
  it('runs the calls of one event-loop turn as one batch and answers each its own output', async () => {
    const batches: number[][] = [];
    const double = perTurn(async (inputs: number[]) => {
      batches.push(inputs);
      return inputs.map((input) => input * 2);
    });
    const first = await Promise.all([double(1), double(2), double(3)]);
    const later = await double(4);
    expect(first).toEqual([2, 4, 6]);
    expect(later).toBe(8);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('does not hold a turn back while an earlier batch is still unanswered', async () => {
    let release: () => void = () => undefined;
    const started: number[][] = [];
    const run = perTurn((inputs: number[]) => {
      started.push(inputs);
      return inputs[0] === 1 ? new Promise<number[]>((resolve) => (release = () => resolve(inputs))) : Promise.resolve(inputs);
    });
    const slow = run(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await run(2)).toBe(2);
    release();
    expect(await slow).toBe(1);
    expect(started).toEqual([[1], [2]]);
  });

  it('rejects every call of a batch that fails, and the next turn runs afresh', async () => {
    let fail = true;
    const run = perTurn(async (inputs: string[]) => {
      if (fail) throw new Error('unavailable');
      return inputs;
    });
    const results = await Promise.allSettled([run('a'), run('b')]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await run('c')).toBe('c');
  });

  it('rejects the batch when its run throws before returning a promise', async () => {
    const run = perTurn((_inputs: number[]): Promise<number[]> => {
      throw new Error('bug');
    });
    await expect(run(1)).rejects.toThrow('bug');
  });
});
