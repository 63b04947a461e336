// Issue 12's money defects, each as an unlucky customer meets it: a second ePayment of one order, a price
// that changed before reconcile(), a lookup answered by a proxy's 404, a Completed lookup without a usable
// amount. Each test failed before its fix.
import nock from 'nock';
import request from 'supertest';
import { MemoryStore } from '../../lib';
import { createShop, KHALTI_URL, SECRET_KEY, type ShopOptions } from '../helpers/app';
import { onHostedPage, SHOP_EPAYMENT } from '../helpers/epayment';
import { useSandbox } from '../helpers/sandbox';
import { lookupBody, nockStatus, STATUS_BODIES, TOKEN } from '../fixtures/khalti';

const sandbox = useSandbox({ secretKey: SECRET_KEY });

const EPAYMENT = SHOP_EPAYMENT;

function epayShop(options: ShopOptions = {}) {
  return createShop({ baseUrl: sandbox.baseUrl, epayment: EPAYMENT, ...options });
}

async function initiate(shop: ReturnType<typeof epayShop>, orderId = 'A-17'): Promise<string> {
  const response = await request(shop.app).post('/khalti/initiate').send({ orderId });
  expect(response.status).toBe(200);
  return response.body.pidx as string;
}

const pay = (pidx: string) => onHostedPage(sandbox, pidx);

const lookups = (pidx: string) =>
  sandbox.requests.filter((r) => r.path === '/api/v2/epayment/lookup/' && (r.body as { pidx?: string }).pidx === pidx);

/** A pidx record as initiate leaves it: claimed, lease ended. */
async function issued(store: MemoryStore, pidx: string, orderId = 'A-17', amount = 1000) {
  await store.claim({ token: `pidx:${pidx}`, orderId, amount, owner: 'initiate', now: Date.now() - 10_000, leaseMs: 1 });
  await store.endLease(`pidx:${pidx}`, 'initiate', Date.now() - 10_000);
}

describe('1. a second ePayment of one order', () => {
  it('is looked up, recorded unfulfillable (order_already_paid, a refund to make) and logged at error', async () => {
    const shop = epayShop();
    const first = await initiate(shop);
    const second = await initiate(shop); // a second tab: a second payment link for the same order
    expect(second).not.toBe(first);
    const firstBack = await pay(first);
    const secondBack = await pay(second); // the customer pays both on Khalti's page
    expect((await request(shop.app).get(firstBack)).headers.location).toBe('/orders/A-17');
    const landed = await request(shop.app).get(secondBack);
    expect(landed.headers.location).toBe('/orders/A-17?error=order_already_paid');
    expect(lookups(second)).toHaveLength(1);
    expect(await shop.router.store.get(`pidx:${second}`)).toMatchObject({
      state: 'unfulfillable',
      failureCode: 'order_already_paid',
      transactionId: sandbox.epayment(second)!.transactionId,
      owner: null,
    });
    expect(shop.verified.map((p) => p.pidx)).toEqual([first]);
    expect(shop.logs.some((l) => l.level === 'error' && /already paid.*refund/.test(l.message))).toBe(true);
    // Settled for good: reconcile has nothing left to try, this run or any later one.
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 0,
      released: 0,
      unsettled: 0,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
  });

  it('is found by reconcile() when the customer never came back from the second payment', async () => {
    const shop = epayShop();
    const first = await initiate(shop);
    const second = await initiate(shop);
    await request(shop.app).get(await pay(first));
    await pay(second); // …and the tab is closed before the redirect
    await shop.router.reconcile();
    expect(await shop.router.store.get(`pidx:${second}`)).toMatchObject({ state: 'unfulfillable', failureCode: 'order_already_paid' });
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 0,
      released: 0,
      unsettled: 0,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(shop.verified).toHaveLength(1);
  });

  it('an unpaid second link of a paid order is declined once Khalti expires it, not refunded', async () => {
    const shop = epayShop();
    const first = await initiate(shop);
    const second = await initiate(shop);
    await request(shop.app).get(await pay(first));
    sandbox.setEpaymentStatus(second, 'Expired');
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 0,
      released: 1,
      unsettled: 0,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(await shop.router.store.get(`pidx:${second}`)).toMatchObject({ state: 'declined', failureCode: 'payment_not_completed' });
  });

  it('a widget token for a paid order is still refused without calling Khalti (verify would take the money)', async () => {
    const shop = epayShop();
    await request(shop.app).get(await pay(await initiate(shop)));
    sandbox.requests.length = 0;
    const { token } = sandbox.pay({ amount: 1000, productIdentity: 'A-17' });
    const response = await shop.post({ token, amount: 1000, orderId: 'A-17' });
    expect(response.body.error.code).toBe('order_already_paid');
    expect(sandbox.requests).toEqual([]);
  });
});

describe('2. reconcile() decides on the order’s price, as the request path does', () => {
  it('ePayment: a link paid at an old price is kept for a refund, not fulfilled', async () => {
    const prices: Record<string, number> = { 'A-17': 1000 };
    const asked: Array<[string, unknown]> = [];
    const shop = epayShop({
      expectedAmount: (orderId, req) => {
        asked.push([orderId, req]);
        return prices[orderId] ?? null;
      },
    });
    const pidx = await initiate(shop);
    prices['A-17'] = 5000; // the cart grew after the link was made
    await pay(pidx); // the customer pays the Rs 10 link and never comes back
    asked.length = 0;
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 0,
      released: 0,
      unsettled: 1,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(asked).toEqual([['A-17', undefined]]);
    expect(shop.verified).toEqual([]);
    expect(await shop.router.store.get(`pidx:${pidx}`)).toMatchObject({ state: 'unfulfillable', failureCode: 'amount_mismatch' });
    // The return route would have said the same.
    expect((await request(shop.app).get(`/khalti/return?pidx=${pidx}`)).headers.location).toBe('/orders/A-17?error=amount_mismatch');
  });

  it('widget: asks Khalti with the amount paid and compares it with the price now', async () => {
    const store = new MemoryStore();
    const prices: Record<string, number> = { 'A-17': 5000 };
    const shop = createShop({ store, prices, baseUrl: KHALTI_URL });
    await store.claim({ token: TOKEN, orderId: 'A-17', amount: 1000, owner: 'crashed', now: Date.now() - 3_600_000, leaseMs: 1_000 });
    const status = nockStatus(TOKEN, 1000).reply(200, STATUS_BODIES.Complete);
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 0,
      released: 0,
      unsettled: 1,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(status.isDone()).toBe(true);
    expect(shop.verified).toEqual([]);
    expect(await store.get(TOKEN)).toMatchObject({ state: 'unfulfillable', failureCode: 'amount_mismatch' });
  });

  it('widget: the same price fulfils, as before', async () => {
    const store = new MemoryStore();
    const shop = createShop({ store, baseUrl: KHALTI_URL });
    await store.claim({ token: TOKEN, orderId: 'A-17', amount: 1000, owner: 'crashed', now: Date.now() - 3_600_000, leaseMs: 1_000 });
    nockStatus(TOKEN, 1000).reply(200, STATUS_BODIES.Complete);
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 1,
      released: 0,
      unsettled: 0,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(shop.verified).toMatchObject([{ orderId: 'A-17', token: TOKEN, amount: 1000 }]);
  });

  it('an order the hook cannot price stays unsettled, untouched, with an error logged; Khalti is not asked', async () => {
    const store = new MemoryStore();
    const shop = createShop({ store, prices: {}, baseUrl: KHALTI_URL });
    await store.claim({ token: TOKEN, orderId: 'A-17', amount: 1000, owner: 'crashed', now: Date.now() - 3_600_000, leaseMs: 1_000 });
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 0,
      released: 0,
      unsettled: 1,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(await store.get(TOKEN)).toMatchObject({ state: 'claimed', owner: 'crashed' });
    expect(shop.logs.some((l) => l.level === 'error' && /could not price the order/.test(l.message))).toBe(true);
  });
});

describe('3. a lookup 404 that is not Khalti’s', () => {
  const PIDX = 'HT6o6PEZRWFJ5ygavzHWd5';
  const nockLookup = () =>
    nock(KHALTI_URL).post('/api/v2/epayment/lookup/', { pidx: PIDX }).matchHeader('authorization', `Key ${SECRET_KEY}`);

  it('an HTML 404 during reconcile() keeps the issued pidx; the customer can still pay and be fulfilled', async () => {
    const store = new MemoryStore();
    const shop = createShop({ store, baseUrl: KHALTI_URL, epayment: EPAYMENT });
    await issued(store, PIDX);
    nockLookup().times(3).reply(404, '<html><body><h1>404 Not Found</h1></body></html>', { 'content-type': 'text/html' });
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 0,
      released: 0,
      unsettled: 1,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(await store.get(`pidx:${PIDX}`)).toMatchObject({ state: 'claimed', orderId: 'A-17' });
    nockLookup().reply(200, lookupBody('Completed'));
    expect((await request(shop.app).get(`/khalti/return?pidx=${PIDX}`)).headers.location).toBe('/orders/A-17');
    expect(shop.verified).toHaveLength(1);
  });

  it('Khalti’s own not-found ends the record without deleting it: the customer is told the payment failed, for their order', async () => {
    const store = new MemoryStore();
    const shop = createShop({ store, baseUrl: KHALTI_URL, epayment: EPAYMENT });
    await issued(store, PIDX);
    nockLookup().reply(404, { detail: 'Not found.', error_key: 'validation_error' });
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 0,
      released: 1,
      unsettled: 0,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(await store.get(`pidx:${PIDX}`)).toMatchObject({ state: 'declined', failureCode: 'payment_rejected' });
    // Not "not started by this shop" (orderId ''): the shop knows this pidx, for A-17. Khalti is not asked again.
    expect((await request(shop.app).get(`/khalti/return?pidx=${PIDX}`)).headers.location).toBe('/orders/A-17?error=payment_rejected');
    expect(nock.pendingMocks()).toEqual([]);
  });
});

describe('4. a Completed lookup with an unusable total_amount', () => {
  const PIDX = 'HT6o6PEZRWFJ5ygavzHWd5';
  it.each([
    ['a string', { total_amount: '1000' }],
    ['missing', { total_amount: undefined }],
  ])('total_amount %s: outcome unknown, the record kept, nothing fulfilled', async (_name, overrides) => {
    const store = new MemoryStore();
    const shop = createShop({ store, baseUrl: KHALTI_URL, epayment: EPAYMENT });
    await issued(store, PIDX);
    nock(KHALTI_URL).post('/api/v2/epayment/lookup/').reply(200, lookupBody('Completed', overrides));
    const response = await shop.post({ pidx: PIDX, orderId: 'A-17' });
    expect(response.status).toBe(502);
    expect(response.body.error.code).toBe('gateway_error');
    expect(await store.get(`pidx:${PIDX}`)).toMatchObject({ state: 'claimed', owner: null });
    expect(shop.verified).toEqual([]);
  });
});
