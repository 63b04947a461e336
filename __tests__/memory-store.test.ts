// MemoryStore runs the shared store conformance suite unchanged.
import { MemoryStore } from '../lib';
import { runStoreConformance } from '../lib';

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
