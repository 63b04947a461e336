// RedisStore runs the store conformance suite unchanged against a real Redis server.
import { Redis } from 'ioredis';
import { runStoreConformance } from '../../lib';
import { RedisStore } from '../../lib/stores/redis';
import { REDIS_URL, uniqueName, unavailable } from '../helpers/services';

const prefix = `${uniqueName('khxtest')}:`;
let admin: Redis;

beforeAll(async () => {
  admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await admin.connect();
    await admin.ping();
  } catch (error) {
    throw unavailable(`Redis at ${REDIS_URL}`, error);
  }
});

afterAll(async () => {
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

const makeStore = () => new RedisStore({ url: REDIS_URL, prefix });
// A restart: a new client on the same prefix.
runStoreConformance(makeStore, undefined, { reopen: makeStore });

describe('RedisStore', () => {
  it('uses a client it is given without quitting it, and keeps large timestamps exact', async () => {
    const client = new Redis(REDIS_URL);
    const store = new RedisStore({ client, prefix });
    const now = 1_764_000_000_123;
    await store.claim({ token: 'big-time', orderId: 'o-big', amount: 9_007_199_254_740, owner: 'a', now, leaseMs: 86_400_000 });
    expect(await store.get('big-time')).toMatchObject({ createdAt: now, leaseUntil: now + 86_400_000, amount: 9_007_199_254_740 });
    await store.close();
    expect(await client.ping()).toBe('PONG');
    await client.quit();
  });

  it('builds its listing index for records an earlier version wrote, once, with the right totals', async () => {
    const old = `${uniqueName('khxold')}:`;
    const client = new Redis(REDIS_URL);
    try {
      const first = new RedisStore({ client, prefix: old });
      const claim = { amount: 1000, leaseMs: 10, now: 1 };
      await first.claim({ ...claim, token: 'paid', orderId: 'o1', owner: 'a' });
      await first.markVerified('paid', 'a', { transactionId: 'idx', khalti: null, now: 2 });
      await first.markFulfilled('paid', 'a', { ok: true }, 3);
      await first.claim({ ...claim, token: 'open', orderId: 'o2', owner: 'b', now: 4, amount: 500 });
      // What an earlier version left: the records, without the listing index.
      await client.del(
        `${old}all`,
        `${old}sums`,
        `${old}listing`,
        ...['claimed', 'verified', 'fulfilled'].map((state) => `${old}s:${state}`),
      );
      const second = new RedisStore({ client, prefix: old });
      expect((await second.list({ limit: 10 })).records.map((r) => r.token)).toEqual(['open', 'paid']);
      expect(await second.count({ state: 'fulfilled' })).toBe(1);
      const totals = await second.totals();
      expect(totals.fulfilled).toEqual({ count: 1, amount: 1000, refunded: 0 });
      expect(totals.claimed).toEqual({ count: 1, amount: 500, refunded: 0 });
      expect(await client.get(`${old}listing`)).toBe('1');
      await second.reindex();
      expect((await second.totals()).fulfilled).toEqual({ count: 1, amount: 1000, refunded: 0 });
    } finally {
      const keys = await client.keys(`${old}*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    }
  });

  it('refuses to start without a client or URL', () => {
    expect(() => new RedisStore({})).toThrow(/client.*url/);
  });
});
