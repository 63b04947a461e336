// ePayment end to end through the router and the sandbox: initiate, Khalti's hosted page, the return
// redirect, POST /khalti/verify with a pidx, reconcile, and the exactly-once guarantees for pidx payments.
import nock from 'nock';
import request from 'supertest';
import { MemoryStore, type LedgerStore } from '../../lib';
import { useSandbox } from '../helpers/sandbox';
import { createShop, KHALTI_URL, SECRET_KEY, type ShopOptions } from '../helpers/app';
import { lookupBody } from '../fixtures/khalti';
import { onHostedPage as hostedPage } from '../helpers/epayment';

const sandbox = useSandbox({ secretKey: SECRET_KEY });

const EPAYMENT = {
  returnUrl: 'https://shop.example/khalti/return',
  websiteUrl: 'https://shop.example',
  successUrl: (orderId: string) => `/orders/${orderId}`,
  failureUrl: (orderId: string, code: string) => `/orders/${orderId}?error=${code}`,
  orderInfo: (orderId: string) => ({ purchaseOrderName: `Himal order ${orderId}` }),
};

function epayShop(options: ShopOptions = {}) {
  return createShop({ baseUrl: sandbox.baseUrl, epayment: EPAYMENT, ...options });
}

async function initiate(shop: ReturnType<typeof epayShop>, orderId = 'A-17') {
  const response = await request(shop.app).post('/khalti/initiate').send({ orderId, amount: 1 });
  return response;
}

/** Pay (or cancel) on the sandbox's hosted page; answers the return URL path + query Khalti sends the customer to. */
const onHostedPage = (pidx: string, action: 'pay' | 'cancel') => hostedPage(sandbox, pidx, action, { returnUrl: EPAYMENT.returnUrl });

describe('POST /khalti/initiate', () => {
  it('starts a payment for the order’s own price and binds the pidx to the order', async () => {
    const shop = epayShop();
    const response = await initiate(shop);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      ok: true,
      orderId: 'A-17',
      pidx: expect.any(String),
      paymentUrl: expect.any(String),
      expiresAt: expect.any(String),
    });
    const payment = sandbox.epayment(response.body.pidx)!;
    expect(payment).toMatchObject({
      amount: 1000,
      purchaseOrderId: 'A-17',
      purchaseOrderName: 'Himal order A-17',
      returnUrl: EPAYMENT.returnUrl,
    });
    expect(response.body.paymentUrl).toBe(`${sandbox.baseUrl}/epayment/?pidx=${response.body.pidx}`);
    expect(await shop.router.store.get(`pidx:${response.body.pidx}`)).toMatchObject({ state: 'claimed', orderId: 'A-17', owner: null });
  });

  it.each([
    ['an unknown order', { orderId: 'NOPE' }, 404, 'order_not_found'],
    ['no order id', {}, 400, 'invalid_request'],
  ])('refuses %s without asking Khalti', async (_name, body, status, code) => {
    const shop = epayShop();
    const response = await request(shop.app).post('/khalti/initiate').send(body);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(sandbox.requests).toEqual([]);
  });

  it('refuses an order already paid before asking Khalti', async () => {
    const store = new MemoryStore();
    await store.claim({ token: 'paid-token', orderId: 'A-17', amount: 1000, owner: 'o', now: Date.now(), leaseMs: 1000 });
    await store.markVerified('paid-token', 'o', { transactionId: 'x', khalti: null, now: Date.now() });
    const shop = epayShop({ store });
    const response = await initiate(shop);
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('order_already_paid');
    expect(sandbox.requests).toEqual([]);
  });

  it('answers Khalti’s field messages as invalid_request', async () => {
    const shop = epayShop({ epayment: { ...EPAYMENT, orderInfo: () => ({ amountBreakdown: [{ label: 'Tea', amount: 400 }] }) } });
    const response = await initiate(shop);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      code: 'invalid_request',
      details: ['amount_breakdown: Amount breakdown must add up to the amount.'],
    });
  });

  it('answers gateway_error when Khalti is down, and never retries initiate', async () => {
    const shop = epayShop();
    sandbox.faults.inject('server_error', { on: 'epayment_initiate', times: 2 });
    const response = await initiate(shop);
    expect(response.status).toBe(502);
    expect(response.body.error.code).toBe('gateway_error');
    expect(sandbox.requests.filter((r) => r.path === '/api/v2/epayment/initiate/')).toHaveLength(1);
  });
});

describe('GET /khalti/return', () => {
  it('paid: looks the pidx up, fulfils once and redirects to successUrl; a reload changes nothing', async () => {
    const shop = epayShop();
    const { pidx } = (await initiate(shop)).body;
    const back = await onHostedPage(pidx, 'pay');
    const landed = await request(shop.app).get(back);
    expect(landed.status).toBe(302);
    expect(landed.headers.location).toBe('/orders/A-17');
    expect(shop.verified).toEqual([
      {
        orderId: 'A-17',
        pidx,
        token: null,
        amount: 1000,
        transactionId: sandbox.epayment(pidx)!.transactionId,
        khalti: expect.objectContaining({ status: 'Completed' }),
      },
    ]);
    expect((await request(shop.app).get(back)).headers.location).toBe('/orders/A-17');
    expect(shop.verified).toHaveLength(1);
  });

  it('cancelled: redirects to failureUrl with payment_not_completed, nothing fulfilled', async () => {
    const shop = epayShop();
    const { pidx } = (await initiate(shop)).body;
    const landed = await request(shop.app).get(await onHostedPage(pidx, 'cancel'));
    expect(landed.headers.location).toBe('/orders/A-17?error=payment_not_completed');
    expect(shop.verified).toEqual([]);
    expect(shop.failed.map((f) => f.code)).toEqual(['payment_not_completed']);
  });

  it('does not trust the query: status=Completed on an unpaid pidx is not a payment', async () => {
    const shop = epayShop();
    const { pidx } = (await initiate(shop)).body;
    const forged = `/khalti/return?pidx=${pidx}&status=Completed&transaction_id=FAKE&amount=1000&total_amount=1000&purchase_order_id=A-17`;
    const landed = await request(shop.app).get(forged);
    expect(landed.headers.location).toBe('/orders/A-17?error=payment_not_completed');
    expect(shop.verified).toEqual([]);
    // Still issued: it can be paid later, and reconcile keeps looking.
    expect(await shop.router.store.get(`pidx:${pidx}`)).toMatchObject({ state: 'claimed' });
  });

  it('refuses a pidx this shop never issued, and a missing pidx', async () => {
    const shop = epayShop();
    const { pidx } = sandbox.epay({ amount: 1000, status: 'Completed', purchaseOrderId: 'A-17' });
    const stranger = await request(shop.app).get(`/khalti/return?pidx=${pidx}&purchase_order_id=A-17`);
    // The query's purchase_order_id is not trusted, not even to choose the failure page.
    expect(stranger.headers.location).toBe('/orders/?error=payment_rejected');
    const missing = await request(shop.app).get('/khalti/return?purchase_order_id=%3Cscript%3E');
    expect(missing.headers.location).toBe('/orders/?error=invalid_request');
    expect(shop.verified).toEqual([]);
  });

  it('20 concurrent returns of one paid pidx fulfil once', async () => {
    const shop = epayShop();
    const { pidx } = (await initiate(shop)).body;
    const back = await onHostedPage(pidx, 'pay');
    const responses = await Promise.all(Array.from({ length: 20 }, () => request(shop.app).get(back)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(302));
    // Identical concurrent requests share one verification: every customer lands on the success page.
    expect(new Set(responses.map((r) => r.headers.location))).toEqual(new Set(['/orders/A-17']));
    expect(shop.verified).toHaveLength(1);
  });
});

describe('POST /khalti/verify with a pidx (single-page apps)', () => {
  it('verifies like the return route, with the same contract', async () => {
    const shop = epayShop();
    const { pidx } = (await initiate(shop)).body;
    await onHostedPage(pidx, 'pay');
    const response = await shop.post({ pidx, orderId: 'A-17' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      ok: true,
      orderId: 'A-17',
      pidx,
      amount: 1000,
      replayed: false,
      transactionId: sandbox.epayment(pidx)!.transactionId,
    });
    expect((await shop.post({ pidx, orderId: 'A-17' })).body.replayed).toBe(true);
    expect(shop.verified).toHaveLength(1);
  });

  it('refuses a pidx for another order', async () => {
    const shop = epayShop();
    const { pidx } = (await initiate(shop)).body;
    await onHostedPage(pidx, 'pay');
    const response = await shop.post({ pidx, orderId: 'B-2' });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('token_already_used');
    expect(shop.verified).toEqual([]);
  });

  it.each([
    ['Pending', 402, 'payment_not_completed', 'claimed'],
    // A definite "no" ends the record but keeps it: the shop's proof that it issued this pidx.
    ['Expired', 402, 'payment_not_completed', 'declined'],
    ['User canceled', 402, 'payment_not_completed', 'declined'],
    ['Refunded', 402, 'payment_not_completed', 'declined'],
  ] as const)('status %s: %i %s (record %s)', async (status, httpStatus, code, kept) => {
    const shop = epayShop();
    const { pidx } = (await initiate(shop)).body;
    sandbox.setEpaymentStatus(pidx, status);
    const response = await shop.post({ pidx, orderId: 'A-17' });
    expect(response.status).toBe(httpStatus);
    expect(response.body.error.code).toBe(code);
    expect((await shop.router.store.get(`pidx:${pidx}`))?.state ?? null).toBe(kept);
  });

  it('a Completed lookup with another amount is kept for a refund, never fulfilled', async () => {
    const store = new MemoryStore();
    await store.claim({ token: 'pidx:HT6o6PEZRWFJ5ygavzHWd5', orderId: 'A-17', amount: 1000, owner: 'o', now: 1, leaseMs: 1 });
    const shop = createShop({ store, baseUrl: KHALTI_URL, epayment: EPAYMENT });
    nock(KHALTI_URL)
      .post('/api/v2/epayment/lookup/', { pidx: 'HT6o6PEZRWFJ5ygavzHWd5' })
      .matchHeader('authorization', `Key ${SECRET_KEY}`)
      .reply(200, lookupBody('Completed', { total_amount: 100 }));
    const response = await shop.post({ pidx: 'HT6o6PEZRWFJ5ygavzHWd5', orderId: 'A-17' });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('amount_mismatch');
    expect(await store.get('pidx:HT6o6PEZRWFJ5ygavzHWd5')).toMatchObject({ state: 'unfulfillable', failureCode: 'amount_mismatch' });
  });
});

describe('reconcile() and ePayment', () => {
  it('fulfils a customer who paid and closed the tab before the redirect; waits on pending; releases expired', async () => {
    const store: LedgerStore = new MemoryStore();
    const shop = epayShop({ store, prices: { 'A-1': 1000, 'A-2': 1000, 'A-3': 1000 } });
    const paid = (await initiate(shop, 'A-1')).body.pidx;
    const pending = (await initiate(shop, 'A-2')).body.pidx;
    const expired = (await initiate(shop, 'A-3')).body.pidx;
    await onHostedPage(paid, 'pay'); // …and the customer never comes back
    sandbox.setEpaymentStatus(pending, 'Pending');
    sandbox.setEpaymentStatus(expired, 'Expired');
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 1,
      released: 1,
      unsettled: 1,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(shop.verified.map((p) => [p.orderId, p.pidx])).toEqual([['A-1', paid]]);
    expect(await store.get(`pidx:${expired}`)).toMatchObject({ state: 'declined', failureCode: 'payment_not_completed' });
    expect((await store.get(`pidx:${pending}`))?.state).toBe('claimed');
    sandbox.setEpaymentStatus(pending, 'Completed');
    expect(await shop.router.reconcile()).toEqual({
      fulfilled: 1,
      released: 0,
      unsettled: 0,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(shop.verified).toHaveLength(2);
  });
});

describe('epayment option', () => {
  it('is checked at start-up', () => {
    expect(() => createShop({ epayment: { ...EPAYMENT, returnUrl: 'nope' } })).toThrow(/option `epayment.returnUrl`/);
    expect(() => createShop({ epayment: { ...EPAYMENT, successUrl: undefined as never } })).toThrow(/`epayment.successUrl` is required/);
  });

  it('mounts nothing without it', async () => {
    const shop = createShop({ baseUrl: sandbox.baseUrl });
    expect((await request(shop.app).post('/khalti/initiate').send({ orderId: 'A-17' })).status).toBe(404);
    expect((await request(shop.app).get('/khalti/return?pidx=x')).status).toBe(404);
  });
});
