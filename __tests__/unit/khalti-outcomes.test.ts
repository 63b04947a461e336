// Khalti's documented answers and failures, through the endpoint: what each one makes us answer.
import { MemoryStore } from '../../lib';
import { createShop } from '../helpers/app';
import { INVALID_KEY, MISSING_KEY, nockStatus, nockVerify, STATUS_BODIES, TOKEN, verifySuccess } from '../fixtures/khalti';

const BODY = { token: TOKEN, amount: 1000, orderId: 'A-17' };

describe('Khalti rejects our secret key', () => {
  it.each([
    ['a wrong key', INVALID_KEY],
    ['a missing Key prefix', MISSING_KEY],
  ])('answers 502 gateway_error for %s and logs a configuration error naming the key, not the token', async (_name, body) => {
    const shop = createShop();
    const khalti = nockVerify().reply(401, body);
    const response = await shop.post(BODY);
    expect(response.status).toBe(502);
    expect(response.body.error.code).toBe('gateway_error');
    expect(khalti.isDone()).toBe(true);
    const config = shop.logs.find((l) => l.level === 'error' && l.message.includes('configuration error'));
    expect(config?.message).toContain('secret key');
    expect(config?.message).toContain('not the payment token');
    expect(shop.verified).toEqual([]);
    expect(shop.failed).toEqual([expect.objectContaining({ code: 'gateway_error' })]);
  });
});

describe('Khalti gives no usable answer to verify: the status API decides', () => {
  const unusable: Array<[string, (scope: ReturnType<typeof nockVerify>) => void]> = [
    ['a 503', (scope) => scope.reply(503, 'Service temporarily unavailable')],
    ['a 500 with JSON', (scope) => scope.reply(500, { detail: 'oops' })],
    ['HTML instead of JSON', (scope) => scope.reply(200, '<html><body>Bad gateway</body></html>', { 'Content-Type': 'text/html' })],
    ['a socket reset', (scope) => scope.replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))],
    ['a 200 without idx', (scope) => scope.reply(200, verifySuccess({ idx: undefined }))],
    ['a 200 with a string amount', (scope) => scope.reply(200, verifySuccess({ amount: '1000' }))],
    ['a redirect (never followed)', (scope) => scope.reply(302, '', { Location: 'https://evil.example/steal' })],
  ];

  it.each(unusable)('%s, then status Complete: fulfils with transactionId null', async (_name, reply) => {
    const shop = createShop();
    reply(nockVerify());
    const status = nockStatus().reply(200, STATUS_BODIES.Complete);
    const response = await shop.post(BODY);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ok: true, transactionId: null, replayed: false });
    expect(status.isDone()).toBe(true);
    expect(shop.verified).toEqual([expect.objectContaining({ transactionId: null, khalti: STATUS_BODIES.Complete })]);
  });

  it('status Confirmed: verifies once more', async () => {
    const shop = createShop();
    nockVerify().reply(503);
    nockStatus().reply(200, STATUS_BODIES.Confirmed);
    const again = nockVerify().reply(200, verifySuccess());
    const response = await shop.post(BODY);
    expect(response.status).toBe(200);
    expect(response.body.transactionId).toBe('8xmeJnNXfoVjCvGcZiiGe7');
    expect(again.isDone()).toBe(true);
  });

  it('status Confirmed twice: verifies only once more, then gateway_error', async () => {
    const shop = createShop();
    nockVerify().times(2).reply(503);
    nockStatus().times(2).reply(200, STATUS_BODIES.Confirmed);
    const response = await shop.post(BODY);
    expect(response.status).toBe(502);
    expect(response.body.error.code).toBe('gateway_error');
    expect((await shop.router.store.get(TOKEN))?.state).toBe('claimed');
  });

  it.each([
    ['Initiated', 402, 'payment_not_completed'],
    ['Failed', 402, 'payment_not_completed'],
    ['Refunded', 402, 'payment_not_completed'],
    ['Partially refunded', 402, 'payment_not_completed'],
    ['Error', 402, 'payment_rejected'],
  ] as const)('status %s: answers %i %s and frees the token', async (state, httpStatus, code) => {
    const shop = createShop();
    nockVerify().reply(503);
    nockStatus().reply(state === 'Error' ? 400 : 200, STATUS_BODIES[state]);
    const response = await shop.post(BODY);
    expect(response.status).toBe(httpStatus);
    expect(response.body.error.code).toBe(code);
    expect(shop.verified).toEqual([]);
    expect(await shop.router.store.get(TOKEN)).toBeNull();
  });

  it('status unusable three times: 502 gateway_error, the claim kept for a later attempt', async () => {
    const shop = createShop();
    nockVerify().reply(503);
    const status = nockStatus().times(3).reply(503);
    const response = await shop.post(BODY);
    expect(response.status).toBe(502);
    expect(response.body.error.code).toBe('gateway_error');
    expect(status.isDone()).toBe(true);
    expect(await shop.router.store.get(TOKEN)).toMatchObject({ state: 'claimed', owner: null, leaseUntil: 0 });
    expect(shop.verified).toEqual([]);
  });

  it('status API rejects our key: gateway_error with the configuration log', async () => {
    const shop = createShop();
    nockVerify().reply(503);
    nockStatus().reply(401, INVALID_KEY);
    const response = await shop.post(BODY);
    expect(response.status).toBe(502);
    expect(shop.logs.some((l) => l.message.includes('configuration error'))).toBe(true);
  });

  it('a retry after an unknown outcome asks the status API first, never verify blindly', async () => {
    const shop = createShop();
    nockVerify().reply(503);
    nockStatus().times(3).reply(503);
    expect((await shop.post(BODY)).status).toBe(502);
    // Only a status scope: a verify call would hit disableNetConnect and the retry would fail.
    const status = nockStatus().reply(200, STATUS_BODIES.Complete);
    const retry = await shop.post(BODY);
    expect(retry.status).toBe(200);
    expect(retry.body.transactionId).toBeNull();
    expect(status.isDone()).toBe(true);
    expect(shop.verified).toHaveLength(1);
  });
});

describe('Khalti hangs', () => {
  it('answers 504 gateway_error when every call times out, within 4 × timeoutMs + 2 s', async () => {
    const shop = createShop({ timeoutMs: 150 });
    nockVerify().delay(5_000).reply(200, verifySuccess());
    nockStatus().times(3).delay(5_000).reply(200, STATUS_BODIES.Complete);
    const started = Date.now();
    const response = await shop.post(BODY);
    const elapsed = Date.now() - started;
    expect(response.status).toBe(504);
    expect(response.body.error.code).toBe('gateway_error');
    expect(elapsed).toBeLessThan(4 * 150 + 2_000);
    expect(shop.verified).toEqual([]);
  });

  it('verify times out, status says Complete: fulfils', async () => {
    const shop = createShop({ timeoutMs: 150 });
    nockVerify().delay(2_000).reply(200, verifySuccess());
    nockStatus().reply(200, STATUS_BODIES.Complete);
    const response = await shop.post(BODY);
    expect(response.status).toBe(200);
    expect(shop.verified).toHaveLength(1);
  });
});

describe('taking over a claim a crashed attempt left behind', () => {
  it('fulfils a verified payment whose onVerified never finished, without calling Khalti', async () => {
    const store = new MemoryStore();
    const past = Date.now() - 3_600_000;
    await store.claim({ token: TOKEN, orderId: 'A-17', amount: 1000, owner: 'crashed', now: past, leaseMs: 1_000 });
    await store.markVerified(TOKEN, 'crashed', { transactionId: 'idx-crashed', khalti: verifySuccess(), now: past });
    const shop = createShop({ store });
    const response = await shop.post(BODY);
    expect(response.status).toBe(200);
    expect(response.body.transactionId).toBe('idx-crashed');
    expect(shop.verified).toEqual([expect.objectContaining({ transactionId: 'idx-crashed', orderId: 'A-17' })]);
  });

  it('asks the status API about a claim whose Khalti answer was never recorded', async () => {
    const store = new MemoryStore();
    await store.claim({ token: TOKEN, orderId: 'A-17', amount: 1000, owner: 'crashed', now: Date.now() - 3_600_000, leaseMs: 1_000 });
    const shop = createShop({ store });
    const status = nockStatus().reply(200, STATUS_BODIES.Confirmed);
    const verify = nockVerify().reply(200, verifySuccess());
    const response = await shop.post(BODY);
    expect(response.status).toBe(200);
    expect(status.isDone()).toBe(true);
    expect(verify.isDone()).toBe(true);
  });
});
