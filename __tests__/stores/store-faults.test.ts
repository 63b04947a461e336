// A store that fails mid-flow fails closed (internal_error, nothing fulfilled), and the next request
// after recovery completes normally — on every real store.
import { Redis } from 'ioredis';
import type { LedgerStore } from '../../lib';
import { createKhaltiSandbox, type KhaltiSandbox } from '../../lib/sandbox';
import { RedisStore } from '../../lib/stores/redis';
import { createShop, SECRET_KEY } from '../helpers/app';
import { realStores } from '../helpers/real-stores';
import { REDIS_URL, uniqueName } from '../helpers/services';

let sandbox: KhaltiSandbox;
const prefix = `${uniqueName('khxfaults')}:`;
const STORES = realStores('faults');

beforeEach(async () => {
  sandbox = await createKhaltiSandbox({ secretKey: SECRET_KEY });
});
afterEach(() => sandbox.close());
afterAll(async () => {
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

/** `store`, except that `method` throws the first time it is called. */
function failingOnce(store: LedgerStore, method: 'claim' | 'markVerified'): LedgerStore {
  let failed = false;
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (name === method && !failed) {
          failed = true;
          return Promise.reject(new Error(`${String(name)}: connection lost`));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe.each(STORES)('%s failing mid-flow', (_name, makeStore) => {
  it.each(['claim', 'markVerified'] as const)('%s throws: internal_error and no fulfilment, then the retry completes', async (method) => {
    const store = makeStore();
    try {
      // Stores on a shared server keep earlier tests' rows: a fresh order id per test.
      const orderId = uniqueName(`order_${method}`);
      const shop = createShop({ store: failingOnce(store, method), baseUrl: sandbox.baseUrl, prices: { [orderId]: 1000 } });
      const { token } = sandbox.pay({ amount: 1000 });
      const failed = await shop.post({ token, amount: 1000, orderId });
      expect(failed.status).toBe(500);
      expect(failed.body.error.code).toBe('internal_error');
      expect(shop.verified).toEqual([]);
      const retry = await shop.post({ token, amount: 1000, orderId });
      expect(retry.status).toBe(200);
      expect(shop.verified).toHaveLength(1);
      expect((await store.get(token))?.state).toBe('fulfilled');
    } finally {
      await store.close?.();
    }
  });
});

describe('RedisStore losing its connection mid-flow', () => {
  it('fails closed while disconnected and completes once the client reconnects', async () => {
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    await client.connect();
    const store = new RedisStore({ client, prefix });
    try {
      const orderId = uniqueName('order_disconnect');
      const shop = createShop({ store, baseUrl: sandbox.baseUrl, prices: { [orderId]: 1000 } });
      const { token } = sandbox.pay({ amount: 1000 });
      sandbox.faults.latencyMs = 300;
      const pending = shop.post({ token, amount: 1000, orderId });
      await new Promise((resolve) => setTimeout(resolve, 100));
      client.disconnect();
      const failed = await pending;
      expect(failed.status).toBe(500);
      expect(failed.body.error.code).toBe('internal_error');
      expect(shop.logs.some((l) => l.message.includes('ledger store failed'))).toBe(true);
      expect(shop.verified).toEqual([]);
      sandbox.faults.latencyMs = 0;
      if (client.status !== 'end') await new Promise((resolve) => client.once('end', resolve));
      await client.connect();
      // The claim is still leased to the failed attempt; once it expires, the retry asks the status API first.
      expect(await client.hget(`${prefix}t:${token}`, 'state')).toBe('claimed');
      await client.hset(`${prefix}t:${token}`, 'leaseUntil', '0');
      const retry = await shop.post({ token, amount: 1000, orderId });
      expect(retry.status).toBe(200);
      expect(shop.verified).toHaveLength(1);
    } finally {
      client.disconnect();
    }
  });
});
