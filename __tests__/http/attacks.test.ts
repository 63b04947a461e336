// Attacks and abuse: replays across orders, underpayment, double-clicks, pollution, floods. The server keeps serving.
import request from 'supertest';
import { createShop } from '../helpers/app';
import { nockVerify, TOKEN, verifySuccess } from '../fixtures/khalti';

async function stillServing(app: Parameters<typeof request>[0]): Promise<void> {
  const health = await request(app).get('/health');
  expect(health.status).toBe(200);
}

describe('attacks', () => {
  it('one token for two orders: the second order is refused and never fulfilled', async () => {
    const shop = createShop({ prices: { 'A-17': 1000, 'EVIL-1': 1000 } });
    nockVerify().reply(200, verifySuccess());
    const [first, second] = await Promise.all([
      shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' }),
      shop.post({ token: TOKEN, amount: 1000, orderId: 'EVIL-1' }),
    ]);
    const statuses = [first.status, second.status].sort();
    expect(statuses).toEqual([200, 409]);
    const refused = first.status === 409 ? first : second;
    expect(['token_already_used', 'verification_in_progress']).toContain(refused.body.error.code);
    const later = await shop.post({ token: TOKEN, amount: 1000, orderId: first.status === 200 ? 'EVIL-1' : 'A-17' });
    expect(later.body.error.code).toBe('token_already_used');
    expect(shop.verified).toHaveLength(1);
    await stillServing(shop.app);
  });

  it('a client amount below the price is refused before Khalti is asked', async () => {
    const shop = createShop({ prices: { 'A-17': 500_000 } });
    const response = await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('amount_mismatch');
    expect(shop.verified).toEqual([]);
  });

  it('50 concurrent identical requests: one Khalti call, one onVerified, every one a 200', async () => {
    const shop = createShop();
    const khalti = nockVerify().once().delay(100).reply(200, verifySuccess());
    const responses = await Promise.all(Array.from({ length: 50 }, () => shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' })));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(responses.filter((r) => r.body.replayed === false)).toHaveLength(1);
    expect(new Set(responses.map((r) => r.body.transactionId))).toEqual(new Set(['8xmeJnNXfoVjCvGcZiiGe7']));
    expect(khalti.isDone()).toBe(true);
    expect(shop.verified).toHaveLength(1);
  });

  it.each([
    [
      'JSON __proto__',
      '{"token":"QUao9cqFzxPgvWJNi9aKac","amount":1000,"orderId":"A-17","__proto__":{"polluted":true}}',
      'application/json',
    ],
    [
      'JSON constructor.prototype',
      '{"token":"QUao9cqFzxPgvWJNi9aKac","amount":1000,"orderId":"A-17","constructor":{"prototype":{"polluted":true}}}',
      'application/json',
    ],
    [
      'form __proto__',
      'token=QUao9cqFzxPgvWJNi9aKac&amount=1000&orderId=A-17&__proto__[polluted]=true&constructor[prototype][polluted]=true',
      'application/x-www-form-urlencoded',
    ],
  ])('%s keys pollute nothing and do not disturb verification', async (_name, raw, type) => {
    const shop = createShop();
    nockVerify().reply(200, verifySuccess());
    const response = await request(shop.app).post('/khalti/verify').set('Content-Type', type).send(raw);
    expect(response.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    expect(shop.verified).toHaveLength(1);
  });

  it('__proto__ as the token or order id is refused or treated as a plain string', async () => {
    const shop = createShop();
    const response = await request(shop.app)
      .post('/khalti/verify')
      .set('Content-Type', 'application/json')
      .send('{"token":"__proto__","amount":1000,"orderId":"constructor"}');
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('order_not_found');
    expect(shop.expectedAmountCalls).toEqual(['constructor']);
    expect(shop.verified).toEqual([]);
  });

  it('a 1 MB body is refused with 413 and the server keeps serving', async () => {
    const shop = createShop();
    const big = JSON.stringify({ token: TOKEN, amount: 1000, orderId: 'A-17', pad: 'x'.repeat(1024 * 1024) });
    const response = await request(shop.app).post('/khalti/verify').set('Content-Type', 'application/json').send(big);
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('request_too_large');
    await stillServing(shop.app);
  });

  it.each([
    'text/plain',
    'text/html',
    'application/octet-stream',
    'multipart/form-data; boundary=----x',
    'application/json; charset=iso-8859-1',
  ])('content type %s is refused with 415', async (type) => {
    const shop = createShop();
    const response = await request(shop.app).post('/khalti/verify').set('Content-Type', type).send('{"token":"x"}');
    expect(response.status).toBe(415);
    expect(response.body.error.code).toBe('invalid_request');
    expect(shop.expectedAmountCalls).toEqual([]);
    await stillServing(shop.app);
  });

  it('repeated form fields (arrays) and nested JSON are refused', async () => {
    const shop = createShop();
    const form = await request(shop.app)
      .post('/khalti/verify')
      .type('form')
      .send('token=QUao9cqFzxPgvWJNi9aKac&amount=1000&amount=1&orderId=A-17');
    expect(form.status).toBe(400);
    expect(form.body.error.details).toEqual(['amount']);
    const nested = await shop.post({ token: { $gt: '' }, amount: { value: 1000 }, orderId: ['A-17'] });
    expect(nested.status).toBe(400);
    expect(nested.body.error.details).toEqual(['amount', 'orderId', 'token']);
    expect(shop.expectedAmountCalls).toEqual([]);
  });

  it('a JSON body that is not an object is refused', async () => {
    const shop = createShop();
    for (const raw of ['[1,2,3]', '"token"', 'null', '1000']) {
      const response = await request(shop.app).post('/khalti/verify').set('Content-Type', 'application/json').send(raw);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('invalid_request');
    }
    await stillServing(shop.app);
  });
});
