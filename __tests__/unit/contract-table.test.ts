// Every row of the error contract in one table: status, code, Retry-After, whether Khalti was called,
// whether onVerified and onFailed ran. Other suites go deeper into each row.
import nock from 'nock';
import request from 'supertest';
import { MemoryStore, type LedgerStore } from '../../lib';
import { createShop, type ShopOptions } from '../helpers/app';
import { INVALID_KEY, INVALID_PAYMENT_TOKEN, nockStatus, nockVerify, STATUS_BODIES, TOKEN, verifySuccess } from '../fixtures/khalti';

const BODY = { token: TOKEN, amount: 1000, orderId: 'A-17' };

interface Row {
  code: string;
  status: number;
  retryAfter?: boolean;
  khaltiCalled: boolean;
  onFailed: boolean;
  shop?: () => Promise<ShopOptions> | ShopOptions;
  /** Khalti answers the request under test must consume. */
  khalti?: () => nock.Scope[];
  send?: (app: Parameters<typeof request>[0]) => Promise<request.Response>;
  body?: object;
}

const claimedElsewhere = async (): Promise<ShopOptions> => {
  const store = new MemoryStore();
  await store.claim({ token: TOKEN, orderId: 'A-17', amount: 1000, owner: 'other', now: Date.now(), leaseMs: 60_000 });
  return { store };
};

const paidWith = (token: string, orderId: string) => async (): Promise<ShopOptions> => {
  const store = new MemoryStore();
  await store.claim({ token, orderId, amount: 1000, owner: 'o', now: Date.now(), leaseMs: 60_000 });
  await store.markVerified(token, 'o', { transactionId: 'idx-0', khalti: null, now: Date.now() });
  await store.markFulfilled(token, 'o', { ok: true, orderId, amount: 1000, transactionId: 'idx-0', replayed: false }, Date.now());
  return { store, prices: { 'A-17': 1000, 'C-3': 1000 } };
};

const failingStore = (): ShopOptions => {
  const store = Object.create(new MemoryStore()) as LedgerStore;
  store.claim = async () => {
    throw new Error('store down');
  };
  return { store };
};

const ROWS: Row[] = [
  { code: 'invalid_request', status: 400, khaltiCalled: false, onFailed: true, body: { token: TOKEN, amount: '10.5', orderId: 'A-17' } },
  {
    code: 'invalid_request',
    status: 415,
    khaltiCalled: false,
    onFailed: false,
    send: (app) => request(app).post('/khalti/verify').set('Content-Type', 'text/plain').send('token=x'),
  },
  { code: 'request_too_large', status: 413, khaltiCalled: false, onFailed: false, body: { ...BODY, pad: 'x'.repeat(20_000) } },
  { code: 'order_not_found', status: 404, khaltiCalled: false, onFailed: true, body: { ...BODY, orderId: 'Z-404' } },
  { code: 'amount_mismatch', status: 409, khaltiCalled: false, onFailed: true, body: { ...BODY, amount: 1001 } },
  {
    code: 'amount_mismatch',
    status: 409,
    khaltiCalled: true,
    onFailed: true,
    khalti: () => [nockVerify().reply(200, verifySuccess({ amount: 900 }))],
  },
  { code: 'token_already_used', status: 409, khaltiCalled: false, onFailed: true, shop: paidWith(TOKEN, 'C-3') },
  { code: 'order_already_paid', status: 409, khaltiCalled: false, onFailed: true, shop: paidWith('AnotherToken123', 'A-17') },
  { code: 'verification_in_progress', status: 409, retryAfter: true, khaltiCalled: false, onFailed: false, shop: claimedElsewhere },
  {
    code: 'payment_rejected',
    status: 402,
    khaltiCalled: true,
    onFailed: true,
    khalti: () => [nockVerify().reply(400, INVALID_PAYMENT_TOKEN)],
  },
  {
    code: 'payment_not_completed',
    status: 402,
    khaltiCalled: true,
    onFailed: true,
    khalti: () => [nockVerify().reply(200, verifySuccess({ refunded: true }))],
  },
  { code: 'gateway_error', status: 502, khaltiCalled: true, onFailed: true, khalti: () => [nockVerify().reply(401, INVALID_KEY)] },
  {
    code: 'gateway_error',
    status: 504,
    khaltiCalled: true,
    onFailed: true,
    shop: () => ({ timeoutMs: 100 }),
    khalti: () => [
      nockVerify().delay(1_000).reply(200, verifySuccess()),
      nockStatus().times(3).delay(1_000).reply(200, STATUS_BODIES.Complete),
    ],
  },
  {
    code: 'fulfilment_failed',
    status: 500,
    khaltiCalled: true,
    onFailed: true,
    shop: () => ({
      onVerified: () => {
        throw new Error('boom');
      },
    }),
    khalti: () => [nockVerify().reply(200, verifySuccess())],
  },
  {
    code: 'overloaded',
    status: 503,
    retryAfter: true,
    khaltiCalled: false,
    onFailed: false,
    shop: () => ({ maxInFlight: 1 }),
    send: async (app) => {
      nockVerify('HoldsTheOnlySlot', 1000).delay(300).reply(503);
      nockStatus('HoldsTheOnlySlot', 1000).times(3).reply(503);
      const holder = request(app)
        .post('/khalti/verify')
        .send({ ...BODY, token: 'HoldsTheOnlySlot' })
        .then((r) => r);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const refused = await request(app).post('/khalti/verify').send(BODY);
      await holder;
      return refused;
    },
  },
  { code: 'internal_error', status: 500, khaltiCalled: false, onFailed: true, shop: failingStore },
];

describe('the error contract, row by row', () => {
  it.each(ROWS.map((row) => [`${row.code} ${row.status}${row.khaltiCalled ? ' (after Khalti)' : ''}`, row] as const))(
    '%s',
    async (_name, row) => {
      const shop = createShop(row.shop ? await row.shop() : {});
      const scopes = row.khalti?.() ?? [];
      const khaltiSeen: string[] = [];
      const onRequest = (req: { hostname?: string; host?: string; path?: string }) => {
        const host = req.hostname ?? req.host ?? '';
        if (!host.startsWith('127.0.0.1') && !host.startsWith('localhost')) khaltiSeen.push(`${host}${req.path ?? ''}`);
      };
      nock.emitter.on('no match', onRequest);
      const response = row.send ? await row.send(shop.app) : await shop.post(row.body ?? BODY);
      nock.emitter.removeListener('no match', onRequest);

      expect(response.status).toBe(row.status);
      expect(response.body).toMatchObject({ ok: false, error: { code: row.code, message: expect.any(String) } });
      expect(response.headers['retry-after'] !== undefined).toBe(row.retryAfter === true);
      // Every Khalti call the request made was answered by a scope set up for it (no stray calls)...
      expect(khaltiSeen).toEqual([]);
      // ...and Khalti was called exactly when the row says so.
      expect(scopes.length > 0 && scopes.every((scope) => scope.isDone())).toBe(row.khaltiCalled);
      expect(shop.verified).toEqual([]);
      const failedCodes = shop.failed.map((f) => f.code);
      expect(failedCodes.includes(row.code as never)).toBe(row.onFailed);
    },
  );
});
