// The SQL stores' group commit: which calls share a statement, how many statements are out at once, and
// what a caller is answered when its batch fails.
import { Batcher } from '../../lib/stores/sql/batcher';

/** A `many` whose statements stay out until released, recording what each carried. */
function heldStatements() {
  const sent: number[][] = [];
  const pending: Array<() => void> = [];
  const many = (inputs: readonly number[]) => {
    sent.push([...inputs]);
    return new Promise<number[]>((resolve) => pending.push(() => resolve(inputs.map((n) => n * 10))));
  };
  return { sent, many, releaseNext: () => pending.shift()!() };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('Batcher', () => {
  it('sends the calls of one event-loop turn as one statement and answers each caller its own result', async () => {
    const { sent, many, releaseNext } = heldStatements();
    const batcher = new Batcher(many, async (n: number) => n * 10);
    const answers = Promise.all([1, 2, 3].map((n) => batcher.run(n)));
    await turn();
    expect(sent).toEqual([[1, 2, 3]]);
    releaseNext();
    expect(await answers).toEqual([10, 20, 30]);
  });

  it('keeps at most maxInFlight statements out; calls arriving meanwhile leave together in the next', async () => {
    const { sent, many, releaseNext } = heldStatements();
    const batcher = new Batcher(many, async (n: number) => n * 10, 1);
    const first = Promise.all([1, 2].map((n) => batcher.run(n)));
    await turn();
    const later: Array<Promise<number>> = [];
    for (const n of [3, 4, 5]) {
      later.push(batcher.run(n));
      await turn(); // three turns, still one statement out
    }
    expect(sent).toEqual([[1, 2]]);
    releaseNext();
    expect(await first).toEqual([10, 20]);
    await turn();
    expect(sent).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    releaseNext();
    expect(await Promise.all(later)).toEqual([30, 40, 50]);
  });

  it('keeps three statements out by default (PostgresStore: three kinds, at most 9 of a pool of 10)', async () => {
    const { sent, many, releaseNext } = heldStatements();
    const batcher = new Batcher(many, async (n: number) => n * 10);
    const answers: Array<Promise<number>> = [];
    for (const pair of [
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ]) {
      answers.push(...pair.map((n) => batcher.run(n)));
      await turn();
    }
    expect(sent).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    releaseNext();
    await turn();
    await turn();
    expect(sent).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ]);
    for (let i = 0; i < 3; i += 1) releaseNext();
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
  });

  it('re-runs a refused batch one call at a time: each caller gets its own answer or its own error', async () => {
    const alone: number[] = [];
    const batcher = new Batcher(
      async () => Promise.reject(new Error('the batch as a whole')),
      async (n: number) => {
        alone.push(n);
        if (n === 2) throw new Error('two is refused');
        return n * 10;
      },
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.run(n)));
    expect(alone.sort()).toEqual([1, 2, 3]);
    expect(results).toEqual([
      { status: 'fulfilled', value: 10 },
      { status: 'rejected', reason: new Error('two is refused') },
      { status: 'fulfilled', value: 30 },
    ]);
  });

  it('sends a lone call the way it runs unbatched', async () => {
    const many = jest.fn(async (inputs: readonly number[]) => [...inputs]);
    const batcher = new Batcher(many, async (n: number) => n + 1);
    expect(await batcher.run(41)).toBe(42);
    expect(many).not.toHaveBeenCalled();
  });
});
