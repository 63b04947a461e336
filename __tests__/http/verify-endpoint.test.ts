// The endpoint contract, row by row, through a real Express app (see shared/error-contract.md).
import express from 'express';
import request from 'supertest';
import { MemoryStore, type LedgerStore } from '../../lib';
import { createShop } from '../helpers/app';
import { INVALID_PAYMENT_TOKEN, nockStatus, nockVerify, STATUS_BODIES, TOKEN, verifySuccess } from '../fixtures/khalti';

const OTHER_TOKEN = 'Zx9cqFzxPgvWJNi9aKac00';

describe('POST /khalti/verify — success', () => {
  it('verifies with Khalti, fulfils once and answers the contract body', async () => {
    const shop = createShop();
    const khalti = nockVerify().reply(200, verifySuccess());
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toEqual({
      ok: true,
      orderId: 'A-17',
      amount: 1000,
      transactionId: '8xmeJnNXfoVjCvGcZiiGe7',
      replayed: false,
      data: { receipt: 'R-1' },
    });
    expect(khalti.isDone()).toBe(true);
    expect(shop.verified).toEqual([
      { orderId: 'A-17', token: TOKEN, amount: 1000, transactionId: '8xmeJnNXfoVjCvGcZiiGe7', khalti: verifySuccess() },
    ]);
    expect(shop.failed).toEqual([]);
    expect((await shop.router.store.get(TOKEN))?.state).toBe('fulfilled');
  });

  it('keeps headers the app set before it, adds no ETag, and sends JSON with its length', async () => {
    const stamp: express.RequestHandler = (_req, res, next) => {
      res.set({ 'X-Request-Id': 'req-42', 'Cache-Control': 'public, max-age=60' });
      next();
    };
    const shop = createShop({ before: [stamp] });
    nockVerify().reply(200, verifySuccess());
    for (const response of [
      await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' }),
      await shop.post({ token: TOKEN, amount: 1000, orderId: 'NOPE' }),
    ]) {
      expect(response.headers['x-request-id']).toBe('req-42');
      expect(response.headers['cache-control']).toBe('no-store'); // ours wins on a clash
      expect(response.headers.etag).toBeUndefined();
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(JSON.stringify(response.body)));
    }
  });

  it('replays a fulfilled payment without calling Khalti or onVerified again', async () => {
    const shop = createShop();
    nockVerify().reply(200, verifySuccess());
    const first = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    // No Khalti scope now: a call would hit disableNetConnect and answer gateway_error.
    const again = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...first.body, replayed: true });
    expect(shop.verified).toHaveLength(1);
  });

  it('accepts a form post with the widget fields, using product_identity as the order id', async () => {
    const shop = createShop();
    const khalti = nockVerify(TOKEN, 2500).reply(200, verifySuccess({ amount: 2500 }));
    const response = await shop.post(
      {
        token: TOKEN,
        amount: '2500',
        product_identity: 'B-2',
        idx: 'x',
        mobile: '98XXXXXXX9',
        product_name: 'Tea',
        product_url: 'https://shop',
      },
      { form: true },
    );
    expect(response.status).toBe(200);
    expect(response.body.orderId).toBe('B-2');
    expect(response.body.amount).toBe(2500);
    expect(khalti.isDone()).toBe(true);
  });

  it('omits data when onVerified returns nothing or a non-plain value', async () => {
    const shop = createShop({ onVerified: () => new Date() });
    nockVerify().reply(200, verifySuccess());
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(200);
    expect(response.body).not.toHaveProperty('data');
  });

  it('takes the order id from getOrderId when given, ignoring the body', async () => {
    const shop = createShop({ getOrderId: () => 'B-2' });
    nockVerify(TOKEN, 2500).reply(200, verifySuccess({ amount: 2500 }));
    const response = await shop.post({ token: TOKEN, amount: 2500, orderId: 'A-17' });
    expect(response.status).toBe(200);
    expect(response.body.orderId).toBe('B-2');
    expect(shop.expectedAmountCalls).toEqual(['B-2']);
  });

  it('works when the app already parsed the body with its own parsers', async () => {
    const shop = createShop({ before: [express.json({ limit: '1mb' }), express.urlencoded({ extended: true })] });
    nockVerify().reply(200, verifySuccess());
    expect((await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' })).status).toBe(200);
    nockVerify(OTHER_TOKEN, 2500).reply(200, verifySuccess({ amount: 2500 }));
    expect((await shop.post({ token: OTHER_TOKEN, amount: '2500', orderId: 'B-2' }, { form: true })).status).toBe(200);
  });

  it('mounts at a custom path only', async () => {
    const shop = createShop({ path: '/pay/khalti' });
    nockVerify().reply(200, verifySuccess());
    expect((await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' })).status).toBe(404);
    expect((await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' }, { path: '/pay/khalti' })).status).toBe(200);
  });
});

describe('POST /khalti/verify — failures before Khalti', () => {
  it.each([
    ['a missing token', { amount: 1000, orderId: 'A-17' }, ['token']],
    ['a token with bad characters', { token: 'abc def', amount: 1000, orderId: 'A-17' }, ['token']],
    ['a decimal amount', { token: TOKEN, amount: 1000.5, orderId: 'A-17' }, ['amount']],
    ['an amount below the minimum', { token: TOKEN, amount: 999, orderId: 'A-17' }, ['amount']],
    ['an amount string with exponent', { token: TOKEN, amount: '1e3', orderId: 'A-17' }, ['amount']],
    ['an array amount', { token: TOKEN, amount: [1000], orderId: 'A-17' }, ['amount']],
    ['no order id at all', { token: TOKEN, amount: 1000 }, ['orderId']],
    ['an order id with a control character', { token: TOKEN, amount: 1000, orderId: 'A-\u000017' }, ['orderId']],
    ['everything wrong', { token: 5, amount: 'ten', orderId: '' }, ['amount', 'orderId', 'token']],
  ])('answers 400 invalid_request for %s, naming the fields, not their values', async (_name, body, details) => {
    const shop = createShop();
    const response = await shop.post(body);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      ok: false,
      error: { code: 'invalid_request', message: expect.any(String), details },
    });
    expect(response.text).not.toContain('ten');
    expect(shop.expectedAmountCalls).toEqual([]);
    expect(shop.failed.map((f) => f.code)).toEqual(['invalid_request']);
    expect(shop.verified).toEqual([]);
  });

  it('answers 400 for malformed JSON and for no body, without calling onFailed', async () => {
    const shop = createShop();
    const malformed = await request(shop.app).post('/khalti/verify').set('Content-Type', 'application/json').send('{"token":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatchObject({ code: 'invalid_request', details: ['body'] });
    const empty = await request(shop.app).post('/khalti/verify');
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('invalid_request');
    expect(shop.failed).toEqual([]);
  });

  it('answers 415 invalid_request for other content types', async () => {
    const shop = createShop();
    for (const type of ['text/plain', 'multipart/form-data; boundary=x', 'application/xml']) {
      const response = await request(shop.app).post('/khalti/verify').set('Content-Type', type).send('token=abc&amount=1000');
      expect(response.status).toBe(415);
      expect(response.body.error.code).toBe('invalid_request');
    }
  });

  it('answers 413 request_too_large over the body limit', async () => {
    const shop = createShop({ bodyLimit: 1024 });
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17', pad: 'x'.repeat(2000) });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('request_too_large');
  });

  it('answers 404 order_not_found when expectedAmount has no such order', async () => {
    const shop = createShop();
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'NOPE' });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('order_not_found');
    expect(shop.failed).toEqual([expect.objectContaining({ code: 'order_not_found', orderId: 'NOPE', token: TOKEN, amount: 1000 })]);
  });

  it('answers 409 amount_mismatch for a posted amount below the price, without revealing the price', async () => {
    const shop = createShop({ prices: { 'A-17': 73_519 } });
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('amount_mismatch');
    expect(response.text).not.toContain('73519');
    expect(response.text).not.toContain('735');
    expect(shop.failed[0]).toMatchObject({ code: 'amount_mismatch', amount: 1000, expectedAmount: 73_519 });
    expect(await shop.router.store.get(TOKEN)).toBeNull();
  });

  it('answers 409 token_already_used for a token fulfilled for another order', async () => {
    const shop = createShop({ prices: { 'A-17': 1000, 'C-3': 1000 } });
    nockVerify().reply(200, verifySuccess());
    expect((await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' })).status).toBe(200);
    const reuse = await shop.post({ token: TOKEN, amount: 1000, orderId: 'C-3' });
    expect(reuse.status).toBe(409);
    expect(reuse.body.error.code).toBe('token_already_used');
    expect(shop.verified).toHaveLength(1);
  });

  it('answers 409 order_already_paid for a second token on a paid order', async () => {
    const shop = createShop();
    nockVerify().reply(200, verifySuccess());
    expect((await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' })).status).toBe(200);
    const second = await shop.post({ token: OTHER_TOKEN, amount: 1000, orderId: 'A-17' });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('order_already_paid');
    expect(shop.verified).toHaveLength(1);
  });

  it('answers 409 verification_in_progress with Retry-After while another request holds the token', async () => {
    const store = new MemoryStore();
    await store.claim({ token: TOKEN, orderId: 'A-17', amount: 1000, owner: 'other-process', now: Date.now(), leaseMs: 60_000 });
    const shop = createShop({ store });
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('verification_in_progress');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(shop.failed).toEqual([]);
  });
});

describe('POST /khalti/verify — Khalti decides', () => {
  it('answers 402 payment_rejected for an invalid payment token, and frees the token', async () => {
    const shop = createShop();
    const khalti = nockVerify().reply(400, INVALID_PAYMENT_TOKEN);
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(402);
    expect(response.body.error.code).toBe('payment_rejected');
    expect(khalti.isDone()).toBe(true);
    expect(shop.failed).toEqual([expect.objectContaining({ code: 'payment_rejected', khalti: INVALID_PAYMENT_TOKEN })]);
    expect(await shop.router.store.get(TOKEN)).toBeNull();
    expect(shop.logs.some((l) => l.message.includes('rejected the payment token') && l.message.includes('"QUao…"'))).toBe(true);
    expect(shop.logs.some((l) => l.message.includes(TOKEN))).toBe(false);
  });

  it('answers 402 payment_not_completed for a refunded payment', async () => {
    const shop = createShop();
    nockVerify().reply(200, verifySuccess({ refunded: true }));
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(402);
    expect(response.body.error.code).toBe('payment_not_completed');
    expect(shop.verified).toEqual([]);
  });

  // Verify moves money: a state it answers that is not Completed is no clear "no". The status API decides.
  it('asks the status API after verify answers an unrecognised state (Pending), and keeps the claim on doubt', async () => {
    const shop = createShop();
    nockVerify().reply(200, verifySuccess({ state: { idx: 'x', name: 'Pending', template: 'is pending' } }));
    nockStatus().times(3).reply(503, 'Service temporarily unavailable');
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(502);
    expect(response.body.error.code).toBe('gateway_error');
    expect(shop.verified).toEqual([]);
    expect(await shop.router.store.get(TOKEN)).toMatchObject({ state: 'claimed', owner: null });
  });

  it('fulfils when verify answers "completed" in lower case: Khalti captured the money', async () => {
    const shop = createShop();
    nockVerify().reply(200, verifySuccess({ state: { idx: 'x', name: 'completed', template: 'is complete' } }));
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(200);
    expect(shop.verified).toHaveLength(1);
  });

  it('fulfils when verify answers an unrecognised state and the status API says Complete', async () => {
    const shop = createShop();
    nockVerify().reply(200, verifySuccess({ state: { idx: 'x', name: 'Settled', template: 'is settled' } }));
    nockStatus().reply(200, STATUS_BODIES.Complete);
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ok: true, transactionId: null });
    expect(shop.verified).toHaveLength(1);
  });

  it('answers 409 amount_mismatch when Khalti confirms a different amount, and keeps it for a refund', async () => {
    const shop = createShop();
    const khalti = nockVerify().reply(200, verifySuccess({ amount: 500 }));
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('amount_mismatch');
    expect(khalti.isDone()).toBe(true);
    expect(shop.verified).toEqual([]);
    const record = await shop.router.store.get(TOKEN);
    expect(record).toMatchObject({ state: 'unfulfillable', failureCode: 'amount_mismatch', transactionId: '8xmeJnNXfoVjCvGcZiiGe7' });
    const retry = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(retry.status).toBe(409);
    expect(retry.body.error.code).toBe('amount_mismatch');
  });

  it('answers 500 fulfilment_failed when onVerified throws, then fulfils on retry without asking Khalti again', async () => {
    let attempts = 0;
    const fulfilled: string[] = [];
    const shop = createShop({
      onVerified: (payment) => {
        attempts += 1;
        if (attempts === 1) throw new Error('warehouse offline');
        fulfilled.push(payment.orderId);
        return { shipped: true };
      },
    });
    const khalti = nockVerify().once().reply(200, verifySuccess());
    const first = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(first.status).toBe(500);
    expect(first.body.error.code).toBe('fulfilment_failed');
    expect(first.text).not.toContain('warehouse');
    expect((await shop.router.store.get(TOKEN))?.state).toBe('verified');
    expect(shop.logs.some((l) => l.level === 'error' && l.message.includes('warehouse offline'))).toBe(true);
    const retry = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ replayed: false, transactionId: '8xmeJnNXfoVjCvGcZiiGe7', data: { shipped: true } });
    expect(khalti.isDone()).toBe(true);
    expect(fulfilled).toEqual(['A-17']);
  });

  it('answers 503 overloaded with Retry-After beyond maxInFlight, without calling onFailed', async () => {
    const shop = createShop({ maxInFlight: 1 });
    nockVerify().delay(300).reply(200, verifySuccess());
    const slow = shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = await shop.post({ token: OTHER_TOKEN, amount: 2500, orderId: 'B-2' });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('overloaded');
    expect(refused.headers['retry-after']).toBe('1');
    // Refused before the body is read: even a malformed body gets the 503, not a 400.
    const unread = await request(shop.app).post('/khalti/verify').set('Content-Type', 'application/json').send('{"token":');
    expect(unread.status).toBe(503);
    expect((await slow).status).toBe(200);
    expect(shop.failed).toEqual([]);
    expect(shop.router.store).toBeDefined();
  });
});

describe('POST /khalti/verify — Retry-After under overload', () => {
  it('grows with how long a slot is held and how many clients wait, so refused clients come back when one frees', async () => {
    const shop = createShop({ maxInFlight: 1 });
    // Khalti is slow: this verification holds the only slot for about 1.6 s.
    nockVerify().delay(1600).reply(200, verifySuccess());
    expect((await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' })).status).toBe(200);
    nockVerify(OTHER_TOKEN, 2500).delay(300).reply(400, INVALID_PAYMENT_TOKEN);
    const holding = shop.post({ token: OTHER_TOKEN, amount: 2500, orderId: 'B-2' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = await shop.post({ token: 'Third9cqFzxPgvWJNi9aKac', amount: 1000, orderId: 'C-3' });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('overloaded');
    expect(refused.headers['retry-after']).toBe('2'); // one slot, freeing every ~1.6 s: ⌈1 ÷ 0.625⌉
    const again = await shop.post({ token: 'Fourth9cqFzxPgvWJNi9aKa', amount: 1000, orderId: 'D-4' });
    expect(again.headers['retry-after']).toBe('4'); // two clients waiting now: ⌈2 ÷ 0.625⌉
    await holding;
  });
});

describe('POST /khalti/verify — internal errors fail closed', () => {
  it('answers 500 internal_error when expectedAmount throws, without calling Khalti', async () => {
    const shop = createShop({
      expectedAmount: () => {
        throw new Error('db down');
      },
    });
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('internal_error');
    expect(response.text).not.toContain('db down');
    expect(shop.failed.map((f) => f.code)).toEqual(['internal_error']);
  });

  it.each([
    ['a string', '1000'],
    ['a fraction', 10.5],
    ['zero', 0],
  ])('answers 500 internal_error when expectedAmount returns %s', async (_name, price) => {
    const shop = createShop({ expectedAmount: () => price as number });
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('internal_error');
  });

  it('answers 500 internal_error when getOrderId throws', async () => {
    const shop = createShop({
      getOrderId: () => {
        throw new Error('no session');
      },
    });
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('internal_error');
  });

  it('answers 500 internal_error when the store fails, and never fulfils', async () => {
    const broken = new MemoryStore();
    const store: LedgerStore = Object.assign(Object.create(broken) as MemoryStore, {
      claim: async () => {
        throw new Error('connection refused');
      },
    });
    const shop = createShop({ store });
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('internal_error');
    expect(shop.verified).toEqual([]);
  });

  it('answers 500 internal_error when recording the verified payment fails, and never fulfils', async () => {
    const inner = new MemoryStore();
    const store: LedgerStore = {
      claim: (input) => inner.claim(input),
      markVerified: async () => {
        throw new Error('disk full');
      },
      markFulfilled: (...args) => inner.markFulfilled(...args),
      markUnfulfillable: (...args) => inner.markUnfulfillable(...args),
      markDeclined: (...args) => inner.markDeclined(...args),
      release: (...args) => inner.release(...args),
      endLease: (...args) => inner.endLease(...args),
      get: (token) => inner.get(token),
      listStale: (...args) => inner.listStale(...args),
      beginRefund: (...args) => inner.beginRefund(...args),
      finishRefund: (...args) => inner.finishRefund(...args),
      endRefundLease: (...args) => inner.endRefundLease(...args),
      takeRefund: (...args) => inner.takeRefund(...args),
      listPendingRefunds: (...args) => inner.listPendingRefunds(...args),
      listOwedRefunds: (...args) => inner.listOwedRefunds(...args),
      list: (query) => inner.list(query),
      count: (query) => inner.count(query),
      totals: () => inner.totals(),
    };
    const shop = createShop({ store });
    nockVerify().reply(200, verifySuccess());
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('internal_error');
    expect(shop.verified).toEqual([]);
    // The claim is kept (lease ended) so the next attempt asks Khalti's status API first.
    expect(await inner.get(TOKEN)).toMatchObject({ state: 'claimed', owner: null });
  });

  it('fails closed even when the store breaks while cleaning up after its own failure', async () => {
    const store = Object.create(new MemoryStore()) as LedgerStore;
    store.claim = async () => {
      throw new Error('connection lost');
    };
    store.endLease = () => {
      throw new Error('not even a promise');
    };
    const shop = createShop({ store });
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('internal_error');
    expect(shop.logs.some((l) => l.message.includes('failing closed'))).toBe(true);
    expect(shop.verified).toEqual([]);
  });

  it('keeps the response when onFailed throws, and logs it', async () => {
    const shop = createShop({
      onFailed: () => {
        throw new Error('metrics down');
      },
    });
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'NOPE' });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('order_not_found');
    expect(shop.logs.some((l) => l.level === 'error' && l.message.includes('onFailed threw'))).toBe(true);
  });
});

describe('Express version', () => {
  it('runs on the Express major under test (5, or 4 with KHX_EXPRESS=4)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the mapped module is what the router uses
    const { version } = require('express/package.json') as { version: string };
    expect(version.split('.')[0]).toBe(process.env.KHX_EXPRESS === '4' ? '4' : '5');
  });
});
