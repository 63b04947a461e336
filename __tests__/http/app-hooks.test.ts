// The app's hooks misbehaving (issue 12, defects 6, 8 and 9, and onFailed for joined requests): a hook
// that never settles, one that answers nonsense, one whose result serialises to something odd.
import request from 'supertest';
import { khaltiVerifier } from '../../lib';
import { createShop, SECRET_KEY } from '../helpers/app';
import { INVALID_PAYMENT_TOKEN, nockVerify, verifySuccess } from '../fixtures/khalti';

const token = (n: number) => `TOKEN${n}abcdefghijklmnop`;

describe('6. an onVerified that never settles', () => {
  it('answers fulfilment_failed after fulfilmentTimeoutMs and frees its slot: payments flow again', async () => {
    const late: Array<(value: unknown) => void> = [];
    const prices = { 'H-1': 1000, 'H-2': 1000, 'A-17': 1000 };
    const shop = createShop({
      prices,
      maxInFlight: 2,
      fulfilmentTimeoutMs: 150,
      onVerified: (payment) => (payment.orderId.startsWith('H-') ? new Promise((resolve) => late.push(resolve)) : { receipt: 'R-ok' }),
    });
    for (const n of [1, 2, 3]) nockVerify(token(n)).reply(200, verifySuccess());
    // Two payments whose fulfilment hangs (a stalled database pool) take both slots…
    const hung = await Promise.all([
      shop.post({ token: token(1), amount: 1000, orderId: 'H-1' }),
      shop.post({ token: token(2), amount: 1000, orderId: 'H-2' }),
    ]);
    expect(hung.map((r) => [r.status, r.body.error?.code])).toEqual([
      [500, 'fulfilment_failed'],
      [500, 'fulfilment_failed'],
    ]);
    // …and the next payment is served, not refused as overloaded.
    const next = await shop.post({ token: token(3), amount: 1000, orderId: 'A-17' });
    expect(next.status).toBe(200);
    expect(shop.logs.filter((l) => l.level === 'error' && /did not settle within fulfilmentTimeoutMs/.test(l.message))).toHaveLength(2);
    // The hung payments stay verified under their lease: nothing else runs onVerified meanwhile.
    expect(await shop.router.store.get(token(2))).toMatchObject({ state: 'verified', owner: expect.any(String) });
    // One hook finishes late: its fulfilment is recorded, and a retry replays it.
    late[0]!({ receipt: 'R-late' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await shop.router.store.get(token(1))).toMatchObject({ state: 'fulfilled' });
    const retry = await shop.post({ token: token(1), amount: 1000, orderId: 'H-1' });
    expect(retry.body).toMatchObject({ ok: true, replayed: true, data: { receipt: 'R-late' } });
  });

  it('is checked at start-up against the lease it must fit in', () => {
    const base = { secretKey: SECRET_KEY, expectedAmount: () => 1000, onVerified: () => undefined };
    expect(() => khaltiVerifier({ ...base, leaseMs: 60_000, fulfilmentTimeoutMs: 30_000 })).toThrow(
      /`fulfilmentTimeoutMs` is invalid.*leaseMs/,
    );
    expect(() => khaltiVerifier({ ...base, fulfilmentTimeoutMs: 0 })).toThrow(/option `fulfilmentTimeoutMs` is invalid/);
    expect(() => khaltiVerifier({ ...base, fulfilmentTimeoutMs: 30_000 })).not.toThrow();
  });
});

describe('8. getOrderId answering nonsense is the app’s bug: 500 internal_error', () => {
  it.each([
    ['a number', 42],
    ['an object', { id: 'A-17' }],
    ['an array', ['A-17']],
  ])('verify: getOrderId returning %s', async (_name, value) => {
    const shop = createShop({ getOrderId: () => value });
    const response = await shop.post({ token: token(1), amount: 1000 });
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('internal_error');
    expect(shop.logs.some((l) => l.level === 'error' && /getOrderId must return a string/.test(l.message))).toBe(true);
  });

  it.each([
    ['a number', 42],
    ['an object', { id: 'A-17' }],
  ])('initiate: getOrderId returning %s', async (_name, value) => {
    const shop = createShop({
      getOrderId: () => value,
      epayment: {
        returnUrl: 'https://shop.example/khalti/return',
        websiteUrl: 'https://shop.example',
        successUrl: () => '/',
        failureUrl: () => '/',
      },
    });
    const response = await request(shop.app).post('/khalti/initiate').send({ orderId: 'A-17' });
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('internal_error');
  });

  it('a missing order id (undefined) is the request’s: 400 invalid_request', async () => {
    const shop = createShop({ getOrderId: () => undefined });
    const response = await shop.post({ token: token(1), amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'invalid_request', details: ['orderId'] });
  });
});

describe('9. data is only ever a JSON object', () => {
  it.each([
    ['a string', () => 'str'],
    ['an array', () => [1, 2]],
    ['null', () => null],
  ])('an onVerified result whose toJSON returns %s is left out', async (_name, toJSON) => {
    const shop = createShop({ onVerified: () => ({ toJSON }) });
    nockVerify(token(1)).reply(200, verifySuccess());
    const response = await shop.post({ token: token(1), amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(200);
    expect(response.body).not.toHaveProperty('data');
    // The replay is the same body.
    expect((await shop.post({ token: token(1), amount: 1000, orderId: 'A-17' })).body).not.toHaveProperty('data');
  });

  it('a toJSON that answers an object is used', async () => {
    const shop = createShop({ onVerified: () => ({ toJSON: () => ({ receipt: 'R-9' }) }) });
    nockVerify(token(1)).reply(200, verifySuccess());
    expect((await shop.post({ token: token(1), amount: 1000, orderId: 'A-17' })).body.data).toEqual({ receipt: 'R-9' });
  });
});

describe('onFailed and requests that join another’s verification', () => {
  it('is called once per failure, with the request that ran the verification', async () => {
    const seen: unknown[] = [];
    const shop = createShop({
      onFailed: (failure, req) => {
        seen.push([failure.code, req.headers['x-request']]);
      },
    });
    nockVerify(token(1)).delay(50).reply(400, INVALID_PAYMENT_TOKEN);
    const body = { token: token(1), amount: 1000, orderId: 'A-17' };
    const responses = await Promise.all(
      ['first', 'second', 'third'].map((id) => request(shop.app).post('/khalti/verify').set('x-request', id).send(body)),
    );
    expect(responses.map((r) => r.body.error.code)).toEqual(['payment_rejected', 'payment_rejected', 'payment_rejected']);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual(['payment_rejected', expect.stringMatching(/^(first|second|third)$/)]);
  });
});
