// ePayment's exactly-once guarantees on every real store: a paid pidx fulfils once under concurrent
// returns and replays, is bound to one order, and a paid-and-abandoned pidx is found by reconcile().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { LedgerStore } from '../lib';
import { createKhaltiSandbox, type KhaltiSandbox } from '../lib/sandbox';
import { PostgresStore } from '../lib/stores/postgres';
import { RedisStore } from '../lib/stores/redis';
import { SqliteStore } from '../lib/stores/sqlite';
import { createShop, SECRET_KEY } from './helpers/app';
import { PG_URL, REDIS_URL, uniqueName } from './helpers/services';

const dir = mkdtempSync(path.join(tmpdir(), 'khx-epay-'));
const table = uniqueName('khx_epay');
const prefix = `${uniqueName('khxepay')}:`;
let sandbox: KhaltiSandbox;

beforeEach(async () => {
  sandbox = await createKhaltiSandbox({ secretKey: SECRET_KEY });
});
afterEach(() => sandbox.close());
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
  await admin.query(`DROP TABLE IF EXISTS ${table}`);
  await admin.end();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const STORES: Array<[string, () => LedgerStore]> = [
  ['SqliteStore', () => new SqliteStore({ filename: path.join(dir, `${uniqueName('l')}.db`) })],
  ['PostgresStore', () => new PostgresStore({ connectionString: PG_URL, table })],
  ['RedisStore', () => new RedisStore({ url: REDIS_URL, prefix })],
];

const EPAYMENT = {
  returnUrl: 'https://shop.example/khalti/return',
  websiteUrl: 'https://shop.example',
  successUrl: (orderId: string) => `/ok/${orderId}`,
  failureUrl: (orderId: string, code: string) => `/fail/${orderId}/${code}`,
};

async function pay(pidx: string): Promise<string> {
  const response = await fetch(`${sandbox.baseUrl}/epayment/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ pidx, mobile: '9800000004', pin: '1111', otp: '987654' }).toString(),
    redirect: 'manual',
  });
  const back = new URL(response.headers.get('location')!);
  return `${back.pathname}${back.search}`;
}

describe.each(STORES)('ePayment on %s', (_name, makeStore) => {
  it('fulfils a paid pidx exactly once, for its own order only, and reconciles an abandoned one', async () => {
    const store = makeStore();
    const [first, second, abandoned] = [uniqueName('E1'), uniqueName('E2'), uniqueName('E3')];
    const shop = createShop({ store, baseUrl: sandbox.baseUrl, epayment: EPAYMENT, prices: { [first]: 1000, [second]: 2500, [abandoned]: 1000 } });
    try {
      const pidx = (await request(shop.app).post('/khalti/initiate').send({ orderId: first })).body.pidx as string;
      const back = await pay(pidx);
      const landings = await Promise.all([
        ...Array.from({ length: 10 }, () => request(shop.app).get(back)),
        ...Array.from({ length: 5 }, () => shop.post({ pidx, orderId: first })),
      ]);
      expect(landings.slice(0, 10).map((r) => r.headers.location)).toEqual(Array(10).fill(`/ok/${first}`));
      expect(landings.slice(10).map((r) => r.status)).toEqual(Array(5).fill(200));
      expect((await shop.post({ pidx, orderId: second })).body.error.code).toBe('token_already_used');
      // A second payment link for an order already paid is refused before Khalti is asked.
      expect((await request(shop.app).post('/khalti/initiate').send({ orderId: first })).body.error.code).toBe('order_already_paid');

      const lost = (await request(shop.app).post('/khalti/initiate').send({ orderId: abandoned })).body.pidx as string;
      await pay(lost);
      const summary = await shop.router.reconcile();
      expect(summary.fulfilled).toBe(1);
      expect(shop.verified.map((p) => [p.orderId, p.pidx])).toEqual([
        [first, pidx],
        [abandoned, lost],
      ]);
      expect(shop.verified.every((p) => p.token === null)).toBe(true);
    } finally {
      await store.close?.();
    }
  });
});
