// reconcile(): payments a crash left behind are finished once their lease ended, and nothing live is touched.
import { isKhaltiError, MemoryStore, type LedgerStore } from '../../lib';
import { createKhaltiSandbox, type KhaltiSandbox } from '../../lib/sandbox';
import { createShop, SECRET_KEY } from '../helpers/app';

let sandbox: KhaltiSandbox;
beforeEach(async () => {
  sandbox = await createKhaltiSandbox({ secretKey: SECRET_KEY });
});
afterEach(() => sandbox.close());

const LONG_AGO = () => Date.now() - 3_600_000;

/** A claim made by a process that died an hour ago. */
async function crashedClaim(store: LedgerStore, token: string, orderId: string, verified = false): Promise<void> {
  const now = LONG_AGO();
  await store.claim({ token, orderId, amount: 1000, owner: 'dead-process', now, leaseMs: 1_000 });
  if (verified) await store.markVerified(token, 'dead-process', { transactionId: `idx-${token}`, khalti: { idx: `idx-${token}` }, now });
}

describe('reconcile()', () => {
  it('finishes every kind of leftover and reports what it did', async () => {
    const store = new MemoryStore();
    const prices = { 'A-1': 1000, 'A-2': 1000, 'A-3': 1000, 'A-4': 1000, 'A-5': 1000 };
    const shop = createShop({ store, prices, baseUrl: sandbox.baseUrl });
    const verifiedNotFulfilled = sandbox.pay({ amount: 1000 });
    const completedUnrecorded = sandbox.pay({ amount: 1000 });
    const confirmedUnverified = sandbox.pay({ amount: 1000 });
    await crashedClaim(store, verifiedNotFulfilled.token, 'A-1', true);
    await crashedClaim(store, completedUnrecorded.token, 'A-2');
    await crashedClaim(store, confirmedUnverified.token, 'A-3');
    await crashedClaim(store, 'NeverPaidAtKhalti00000', 'A-4');
    // Khalti completed A-2's payment before the process died.
    await shop.router.client.verify(completedUnrecorded.token, 1000);
    // A live claim (another process is working on it right now) must be left alone.
    const live = sandbox.pay({ amount: 1000 });
    await store.claim({ token: live.token, orderId: 'A-5', amount: 1000, owner: 'alive', now: Date.now(), leaseMs: 60_000 });
    sandbox.requests.length = 0;

    const summary = await shop.router.reconcile();
    expect(summary).toEqual({ fulfilled: 3, released: 1, unsettled: 0, refunds: { resolved: 0, pending: 0, refunded: 0 } });
    expect(shop.verified.map((p) => p.orderId).sort()).toEqual(['A-1', 'A-2', 'A-3']);
    expect((await store.get(verifiedNotFulfilled.token))?.state).toBe('fulfilled');
    expect((await store.get(completedUnrecorded.token))?.state).toBe('fulfilled');
    expect(await store.get('NeverPaidAtKhalti00000')).toBeNull();
    expect((await store.get(live.token))?.owner).toBe('alive');
    // A verified record is fulfilled without asking Khalti; unrecorded ones are asked about via status first.
    const paths = sandbox.requests.map((r) => `${r.path}${String(r.query.token ?? r.body?.token)}`);
    expect(paths.filter((p) => p.includes(verifiedNotFulfilled.token))).toEqual([]);
    expect(paths.filter((p) => p.includes(completedUnrecorded.token))).toEqual([`/api/v2/payment/status/${completedUnrecorded.token}`]);
    expect(sandbox.transaction(confirmedUnverified.token)?.state).toBe('Completed');

    // Nothing is left to do, and a replayed request finds the payment fulfilled once.
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 0,
      released: 0,
      unsettled: 0,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    const replay = await shop.post({ token: completedUnrecorded.token, amount: 1000, orderId: 'A-2' });
    expect(replay.body.replayed).toBe(true);
    expect(shop.verified).toHaveLength(3);
  });

  it('releases an order check a crash left between its claim and its release, without asking Khalti', async () => {
    // ePayment initiate claims `check:<uuid>` for the order to refuse a paid one, then releases it. A crash
    // in between leaves a record that is no payment: it must never reach Khalti's verify API as a token.
    const store = new MemoryStore();
    const shop = createShop({ store, baseUrl: sandbox.baseUrl });
    await crashedClaim(store, 'check:6f1c2c8e-3b1f-4a7e-9a51-0d2b8c7e4f10', 'A-17');
    sandbox.requests.length = 0;
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 0,
      released: 1,
      unsettled: 0,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(sandbox.requests).toEqual([]);
    expect(await store.get('check:6f1c2c8e-3b1f-4a7e-9a51-0d2b8c7e4f10')).toBeNull();
    expect(shop.verified).toEqual([]);
    // The order is free again: it can be paid.
    const { token } = sandbox.pay({ amount: 1000 });
    expect((await shop.post({ token, amount: 1000, orderId: 'A-17' })).status).toBe(200);
  });

  it('passes no request to onVerified and counts what it could not settle', async () => {
    const store = new MemoryStore();
    const requests: unknown[] = [];
    let failNext = true;
    const shop = createShop({
      store,
      baseUrl: sandbox.baseUrl,
      onVerified: (_payment, req) => {
        requests.push(req);
        if (failNext) {
          failNext = false;
          throw new Error('warehouse offline');
        }
      },
    });
    const { token } = sandbox.pay({ amount: 1000 });
    await crashedClaim(store, token, 'A-17', true);
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 0,
      released: 0,
      unsettled: 1,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 1,
      released: 0,
      unsettled: 0,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(requests).toEqual([undefined, undefined]);
  });

  it('leaves a claim alone while Khalti cannot say what happened', async () => {
    const store = new MemoryStore();
    const shop = createShop({ store, baseUrl: sandbox.baseUrl });
    const { token } = sandbox.pay({ amount: 1000 });
    await crashedClaim(store, token, 'A-17');
    sandbox.faults.inject('server_error', { times: 3 });
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 0,
      released: 0,
      unsettled: 1,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect((await store.get(token))?.state).toBe('claimed');
    expect(await shop.router.reconcile({ limit: 10 })).toEqual({
      fulfilled: 1,
      released: 0,
      unsettled: 0,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
  });

  it('rejects with internal_error when the store cannot list', async () => {
    const store = Object.create(new MemoryStore()) as LedgerStore;
    store.listStale = async () => {
      throw new Error('store down');
    };
    const shop = createShop({ store, baseUrl: sandbox.baseUrl });
    const error: unknown = await shop.router.reconcile().catch((e: unknown) => e);
    expect(isKhaltiError(error) && error.code).toBe('internal_error');
  });
});

describe('reconcile() with a backlog', () => {
  it('handles every stale record across batches, and honours limit', async () => {
    const store = new MemoryStore();
    const orders = Array.from({ length: 230 }, (_, i) => `B-${i}`);
    const shop = createShop({ store, baseUrl: sandbox.baseUrl, prices: Object.fromEntries(orders.map((id) => [id, 1000])) });
    for (const orderId of orders) await crashedClaim(store, sandbox.pay({ amount: 1000 }).token, orderId, true);
    expect(await shop.router.reconcile({ limit: 30 })).toEqual({
      fulfilled: 30,
      released: 0,
      unsettled: 0,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 200,
      released: 0,
      unsettled: 0,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(new Set(shop.verified.map((p) => p.orderId)).size).toBe(230);
  });

  it('does not loop on records that stay unsettled', async () => {
    const store = new MemoryStore();
    const orders = Array.from({ length: 150 }, (_, i) => `C-${i}`);
    const shop = createShop({
      store,
      baseUrl: sandbox.baseUrl,
      prices: Object.fromEntries(orders.map((id) => [id, 1000])),
      onVerified: () => {
        throw new Error('warehouse offline');
      },
    });
    for (const orderId of orders) await crashedClaim(store, sandbox.pay({ amount: 1000 }).token, orderId, true);
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 0,
      released: 0,
      unsettled: 150,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
  });
});
