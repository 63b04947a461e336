// MemoryStore runs the shared store conformance suite unchanged.
import { MemoryStore } from '../../lib';
import { runStoreConformance } from '../../lib';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { verifySuccess } from '../fixtures/khalti';

runStoreConformance(() => new MemoryStore());

describe('MemoryStore', () => {
  it('counts its records', async () => {
    const store = new MemoryStore();
    expect(store.size).toBe(0);
    await store.claim({ token: 't1', orderId: 'o1', amount: 1000, owner: 'a', now: 0, leaseMs: 10 });
    expect(store.size).toBe(1);
    await store.release('t1', 'a');
    expect(store.size).toBe(0);
  });

  it('keeps an order bound to its paid token while other tokens of it come and go', async () => {
    // An order's tokens are held as one string until a second token arrives: exercise 1 → 3 → 1 → 2.
    const store = new MemoryStore();
    const claim = (token: string, now: number) => store.claim({ token, orderId: 'o1', amount: 1000, owner: token, now, leaseMs: 10 });
    expect((await claim('t1', 0)).status).toBe('claimed');
    expect((await claim('t2', 20)).status).toBe('claimed');
    expect((await claim('t3', 40)).status).toBe('claimed');
    expect(await store.release('t2', 't2')).toBe(true);
    expect(await store.release('t3', 't3')).toBe(true);
    expect(await store.markVerified('t1', 't1', { transactionId: 'idx-1', khalti: null, now: 41 })).toBe('verified');
    const late = await claim('t4', 60);
    expect(late.status).toBe('order_conflict');
    expect(late.record.token).toBe('t1');
    expect(await store.release('t1', 't1')).toBe(false); // verified records are never released
    expect(store.size).toBe(1);
  });

  it('refuses to run the conformance suite without a test runner', () => {
    const scope = globalThis as { describe?: unknown };
    const saved = scope.describe;
    scope.describe = undefined;
    try {
      expect(() => runStoreConformance(() => new MemoryStore())).toThrow(/no global describe\/it/);
    } finally {
      scope.describe = saved;
    }
  });
});

describe('MemoryStore bound', () => {
  const claim = (store: MemoryStore, token: string, now = 1) =>
    store.claim({ token, orderId: `o-${token}`, amount: 1000, owner: 'w', now, leaseMs: 10 });
  const settle = async (store: MemoryStore, token: string) => {
    await store.markVerified(token, 'w', { transactionId: 'i', khalti: null, now: 2 });
    await store.markFulfilled(token, 'w', {}, 3);
  };

  it('evicts the oldest settled records at the cap, warning once', async () => {
    const warnings: string[] = [];
    const store = new MemoryStore({ maxRecords: 3, warn: (m) => warnings.push(m) });
    for (const token of ['a', 'b', 'c']) {
      await claim(store, token);
      await settle(store, token);
    }
    await claim(store, 'd');
    await claim(store, 'e');
    expect(store.size).toBe(3);
    expect(await store.get('a')).toBeNull();
    expect(await store.get('b')).toBeNull();
    expect((await store.get('c'))?.state).toBe('fulfilled');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('maxRecords (3)');
  });

  it('refuses new claims when nothing settled can be evicted (fail closed)', async () => {
    const store = new MemoryStore({ maxRecords: 2, warn: () => undefined });
    await claim(store, 'a');
    await claim(store, 'b');
    await expect(claim(store, 'c')).rejects.toThrow(/full/);
    expect((await claim(store, 'a', 100)).status).toBe('claimed');
  });

  it('defaults to 100000 and refuses a nonsense cap', () => {
    expect(new MemoryStore().maxRecords).toBe(100_000);
    expect(() => new MemoryStore({ maxRecords: 0 })).toThrow(/maxRecords/);
  });
});

describe('MemoryStore footprint', () => {
  // The Khalti answer and the response are held as JSON bytes outside the JavaScript heap (V8 grows the
  // heap to a multiple of what is live, so heap bytes cost several times their size in RSS under load).
  // Before: about 1,330 bytes of heap per settled payment with an answer of Khalti's usual size; now about 670.
  it('holds a settled payment in well under a kilobyte of heap, and hands out intact copies', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const answer = (i: number) => verifySuccess({ idx: `Xb2kXK${i}pZcR7YfTN5H2UHi` });
    const N = 10_000;
    gc();
    const before = process.memoryUsage().heapUsed;
    const store = new MemoryStore();
    for (let i = 0; i < N; i += 1) {
      const token = `tok_${i}`;
      const owner = `owner-${i}-0123456789abcdef0123456789`;
      await store.claim({ token, orderId: `O-${i}`, amount: 1000, owner, now: 1_765_000_000_000 + i, leaseMs: 60_000 });
      await store.markVerified(token, owner, { transactionId: `Xb2kXK${i}pZcR7YfTN5H2UHi`, khalti: answer(i), now: 1_765_000_000_001 + i });
      await store.markFulfilled(token, owner, { ok: true, orderId: `O-${i}`, amount: 1000, replayed: false }, 1_765_000_000_002 + i);
    }
    gc();
    const perRecord = (process.memoryUsage().heapUsed - before) / N;
    expect(store.size).toBe(N);
    expect(perRecord).toBeLessThan(1_000);
    const record = await store.get('tok_42');
    expect(record?.khalti).toEqual(answer(42));
    expect(record?.response).toEqual({ ok: true, orderId: 'O-42', amount: 1000, replayed: false });
    // A copy is the caller's own: changing it changes nothing held.
    (record!.khalti as { amount: number }).amount = 1;
    expect(((await store.get('tok_42'))!.khalti as { amount: number }).amount).toBe(1000);
  });
});
