// The Pacer resumes admitted work a few continuations per event-loop turn, in order.
import { Pacer, PACER_BATCH } from '../../lib/pacer';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Pacer', () => {
  it('resumes continuations in the order asked, at most `batch` per event-loop turn', async () => {
    const pacer = new Pacer(2);
    const resumed: number[] = [];
    const all = Array.from({ length: 5 }, (_, index) => pacer.turn().then(() => resumed.push(index)));
    expect(pacer.waiting).toBe(5);
    expect(resumed).toEqual([]); // never synchronously
    await nextTurn();
    expect(resumed).toEqual([0, 1]);
    await nextTurn();
    expect(resumed).toEqual([0, 1, 2, 3]);
    await nextTurn();
    expect(resumed).toEqual([0, 1, 2, 3, 4]);
    await Promise.all(all);
    expect(pacer.waiting).toBe(0);
  });

  it('lets other callbacks run between batches of a burst', async () => {
    const pacer = new Pacer();
    const events: string[] = [];
    const burst = Array.from({ length: PACER_BATCH * 3 }, () => pacer.turn().then(() => events.push('paced')));
    // Something else (a socket read, a refusal) becomes ready while the burst is queued.
    setImmediate(() => setImmediate(() => events.push('other')));
    await Promise.all(burst);
    const other = events.indexOf('other');
    expect(other).toBeGreaterThan(0);
    expect(other).toBeLessThan(events.length - 1); // not stuck behind the whole burst
  });

  it('starts again after it ran empty', async () => {
    const pacer = new Pacer(1);
    await pacer.turn();
    await pacer.turn();
    expect(pacer.waiting).toBe(0);
  });
});
