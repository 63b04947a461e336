// The verifier against the package's own Khalti sandbox on loopback: real HTTP, real faults.
import { createKhaltiSandbox, type KhaltiSandbox } from '../../lib/sandbox';
import { KhaltiClient, MemoryStore } from '../../lib';
import { createShop, SECRET_KEY, type ShopOptions } from '../helpers/app';

let sandbox: KhaltiSandbox;

async function start(options: Parameters<typeof createKhaltiSandbox>[0] = {}): Promise<void> {
  sandbox = await createKhaltiSandbox({ secretKey: SECRET_KEY, ...options });
}
afterEach(async () => {
  await sandbox.close();
});

const shopOn = (options: ShopOptions = {}) => createShop({ baseUrl: sandbox.baseUrl, ...options });
const verifyCalls = () => sandbox.requests.filter((r) => r.path === '/api/v2/payment/verify/').length;

describe('verifier ↔ sandbox', () => {
  beforeEach(() => start());

  it('verifies a paid token, completes it at Khalti, fulfils once, and replays without calling Khalti', async () => {
    const shop = shopOn();
    const { token, idx } = sandbox.pay({ amount: 1000, productIdentity: 'A-17' });
    const first = await shop.post({ token, amount: 1000, orderId: 'A-17' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ ok: true, transactionId: idx, replayed: false });
    expect(sandbox.transaction(token)?.state).toBe('Completed');
    const again = await shop.post({ token, amount: 1000, orderId: 'A-17' });
    expect(again.body.replayed).toBe(true);
    expect(verifyCalls()).toBe(1);
    expect(shop.verified).toHaveLength(1);
    expect(sandbox.requests.every((r) => r.authorization === 'Key [redacted]')).toBe(true);
  });

  it('50 concurrent identical requests make one verify call', async () => {
    const shop = shopOn();
    const { token } = sandbox.pay({ amount: 1000 });
    sandbox.faults.latencyMs = 50;
    const responses = await Promise.all(Array.from({ length: 50 }, () => shop.post({ token, amount: 1000, orderId: 'A-17' })));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(verifyCalls()).toBe(1);
    expect(shop.verified).toHaveLength(1);
  });

  it.each([
    ['a 503', 'server_error'],
    ['a dropped connection', 'drop'],
    ['HTML instead of JSON', 'non_json'],
  ] as const)('%s on verify: the status API says Confirmed, verify once more, fulfilled', async (_name, kind) => {
    const shop = shopOn();
    const { token } = sandbox.pay({ amount: 1000 });
    sandbox.faults.inject(kind, { on: 'verify' });
    const response = await shop.post({ token, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(200);
    expect(sandbox.requests.map((r) => r.path)).toEqual(['/api/v2/payment/verify/', '/api/v2/payment/status/', '/api/v2/payment/verify/']);
    expect(shop.verified).toHaveLength(1);
  });

  it('a hung verify times out; the status API and a second verify finish the job', async () => {
    const shop = shopOn({ timeoutMs: 200 });
    const { token } = sandbox.pay({ amount: 1000 });
    sandbox.faults.inject('hang', { on: 'verify' });
    const response = await shop.post({ token, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(200);
    expect(sandbox.transaction(token)?.state).toBe('Completed');
  });

  it('Khalti down for every call: 502, nothing fulfilled, and a later retry completes it', async () => {
    const shop = shopOn();
    const { token } = sandbox.pay({ amount: 1000 });
    sandbox.faults.inject('server_error', { times: 4 });
    const down = await shop.post({ token, amount: 1000, orderId: 'A-17' });
    expect(down.status).toBe(502);
    expect(shop.verified).toEqual([]);
    const retry = await shop.post({ token, amount: 1000, orderId: 'A-17' });
    expect(retry.status).toBe(200);
    // The retry asked the status API first (the earlier outcome was unknown), then verified.
    expect(sandbox.requests.slice(-2).map((r) => r.path)).toEqual(['/api/v2/payment/status/', '/api/v2/payment/verify/']);
  });

  it('our key refused: 502 gateway_error and a configuration error in the log', async () => {
    const shop = shopOn();
    const { token } = sandbox.pay({ amount: 1000 });
    sandbox.faults.inject('unauthorized', { on: 'verify' });
    const response = await shop.post({ token, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(502);
    expect(shop.logs.some((l) => l.message.includes('configuration error'))).toBe(true);
    expect(sandbox.transaction(token)?.state).toBe('Confirmed');
  });

  it('a wrong secret key is a configuration error, not a rejected payment', async () => {
    const shop = shopOn({ secretKey: 'test_secret_key_not_this_one' });
    const { token } = sandbox.pay({ amount: 1000 });
    const response = await shop.post({ token, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(502);
    expect(response.body.error.code).toBe('gateway_error');
    expect(shop.logs.some((l) => l.message.includes('detail="Invalid token."') && l.message.includes('configuration error'))).toBe(true);
  });

  it('Khalti completes a different amount: 409, unfulfillable, nothing fulfilled', async () => {
    const shop = shopOn();
    const { token } = sandbox.pay({ amount: 1000 });
    sandbox.faults.inject('wrong_amount', { amount: 100 });
    const response = await shop.post({ token, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('amount_mismatch');
    expect(await shop.router.store.get(token)).toMatchObject({ state: 'unfulfillable', failureCode: 'amount_mismatch' });
    expect(shop.verified).toEqual([]);
  });

  it('a refunded payment is never fulfilled', async () => {
    const shop = shopOn();
    const { token } = sandbox.pay({ amount: 1000 });
    sandbox.faults.inject('refunded');
    const response = await shop.post({ token, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(402);
    expect(response.body.error.code).toBe('payment_not_completed');
    expect(shop.verified).toEqual([]);
  });

  it.each([
    ['Initiated', 402, 'payment_not_completed'],
    ['Failed', 402, 'payment_not_completed'],
    ['Refunded', 402, 'payment_not_completed'],
  ] as const)('a payment in state %s: %i %s', async (state, status, code) => {
    const shop = shopOn();
    const { token } = sandbox.pay({ amount: 1000, state });
    const response = await shop.post({ token, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
  });

  it('an unknown token is rejected', async () => {
    const shop = shopOn();
    const response = await shop.post({ token: 'NeverPaidToken00000000', amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(402);
    expect(response.body.error.code).toBe('payment_rejected');
  });

  it('form posts with the widget payload work end to end', async () => {
    const shop = shopOn();
    const { token, idx } = sandbox.pay({ amount: 2500, productIdentity: 'B-2' });
    const response = await shop.post({ token, idx, amount: '2500', product_identity: 'B-2', mobile: '98XXXXXXX0' }, { form: true });
    expect(response.status).toBe(200);
    expect(response.body.orderId).toBe('B-2');
  });
});

describe.each(['record', 'invalid_token'] as const)('a token already verified at Khalti (sandbox alreadyVerified: %s)', (mode) => {
  beforeEach(() => start({ alreadyVerified: mode }));

  it('a crashed attempt that verified it is finished through the status API, never a blind verify', async () => {
    const store = new MemoryStore();
    const shop = shopOn({ store });
    const { token } = sandbox.pay({ amount: 1000 });
    // An earlier attempt claimed the token, Khalti completed the payment, then the process died.
    await store.claim({ token, orderId: 'A-17', amount: 1000, owner: 'crashed', now: Date.now() - 3_600_000, leaseMs: 1_000 });
    await new KhaltiClient({ secretKey: SECRET_KEY, baseUrl: sandbox.baseUrl }).verify(token, 1000);
    sandbox.requests.length = 0;
    const response = await shop.post({ token, amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(200);
    expect(response.body.transactionId).toBeNull();
    expect(sandbox.requests.map((r) => r.path)).toEqual(['/api/v2/payment/status/']);
    expect(shop.verified).toHaveLength(1);
  });
});
