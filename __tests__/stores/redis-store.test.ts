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

  it('refuses to start without a client or URL', () => {
    expect(() => new RedisStore({})).toThrow(/client.*url/);
  });
});
