// The events on diagnostics_channel, read by a subscriber with their exact fields: a payment message per
// finished verification attempt (widget, ePayment, replay, failure, reconcile), a message per call to
// Khalti, per refusal under load and per reconcile() run; none holds the secret or a whole token.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import request from 'supertest';
import { KHALTI_CHANNEL, OVERLOADED_CHANNEL, PAYMENT_CHANNEL, RECONCILE_CHANNEL } from '../../lib';
import { assertNoSecretLeaked, createShop, SECRET_KEY } from '../helpers/app';
import { onHostedPage } from '../helpers/epayment';
import { useSandbox } from '../helpers/sandbox';

const sandbox = useSandbox({ secretKey: SECRET_KEY });
const heard: Record<string, Array<Record<string, unknown>>> = {};
const listeners = new Map<string, (message: unknown) => void>();

beforeEach(() => {
  for (const name of [PAYMENT_CHANNEL, KHALTI_CHANNEL, OVERLOADED_CHANNEL, RECONCILE_CHANNEL]) {
    heard[name] = [];
    const listener = (message: unknown) => heard[name]!.push(message as Record<string, unknown>);
    listeners.set(name, listener);
    subscribe(name, listener);
  }
});

afterEach(() => {
  for (const [name, listener] of listeners) unsubscribe(name, listener);
  const all = JSON.stringify(heard);
  expect(all).not.toContain(SECRET_KEY.slice('test_secret_key_'.length));
  assertNoSecretLeaked();
});

const EPAYMENT = {
  returnUrl: 'https://shop.example/khalti/return',
  websiteUrl: 'https://shop.example',
  successUrl: (orderId: string) => `/orders/${orderId}`,
  failureUrl: (orderId: string, code: string) => `/orders/${orderId}?error=${code}`,
};

const duration = expect.any(Number);

describe('khalti-express:payment', () => {
  it('one message per widget attempt: verified, then replayed, then a failure with its code; keys masked', async () => {
    const shop = createShop({ baseUrl: sandbox.baseUrl });
    const { token, idx } = sandbox.pay({ amount: 1000 });
    await shop.post({ token, amount: 1000, orderId: 'A-17' });
    await shop.post({ token, amount: 1000, orderId: 'A-17' });
    await shop.post({ token, amount: 1000, orderId: 'B-2' });
    await shop.post({ token: 'x', amount: 'nope', orderId: 'A-17' });
    const masked = `${token.slice(0, 4)}…`;
    expect(heard[PAYMENT_CHANNEL]).toEqual([
      {
        flow: 'widget',
        outcome: 'verified',
        orderId: 'A-17',
        key: masked,
        amount: 1000,
        transactionId: idx,
        durationMs: duration,
        source: 'request',
      },
      {
        flow: 'widget',
        outcome: 'replayed',
        orderId: 'A-17',
        key: masked,
        amount: 1000,
        transactionId: idx,
        durationMs: duration,
        source: 'request',
      },
      {
        flow: 'widget',
        outcome: 'failed',
        code: 'amount_mismatch',
        orderId: 'B-2',
        key: masked,
        amount: 1000,
        durationMs: duration,
        source: 'request',
      },
    ]);
    expect(JSON.stringify(heard)).not.toContain(token);
  });

  it('an ePayment through the return route, and a payment reconcile() settles, with their source', async () => {
    const shop = createShop({ baseUrl: sandbox.baseUrl, epayment: EPAYMENT });
    const { pidx } = (await request(shop.app).post('/khalti/initiate').send({ orderId: 'A-17' })).body as { pidx: string };
    await request(shop.app).get(await onHostedPage(sandbox, pidx));
    const paid = {
      flow: 'epayment',
      outcome: 'verified',
      orderId: 'A-17',
      key: `${pidx.slice(0, 4)}…`,
      amount: 1000,
      durationMs: duration,
      source: 'request',
    };
    expect(heard[PAYMENT_CHANNEL]).toEqual([{ ...paid, transactionId: sandbox.epayment(pidx)!.transactionId }]);
    // A crash after a claim: reconcile() finds Khalti completed it (through the status API, which names no idx).
    const { token } = sandbox.pay({ amount: 2500, state: 'Completed' });
    await shop.router.store.claim({ token, orderId: 'B-2', amount: 2500, owner: 'gone', now: Date.now() - 10_000, leaseMs: 1 });
    heard[PAYMENT_CHANNEL] = [];
    const summary = await shop.router.reconcile();
    expect(heard[PAYMENT_CHANNEL]).toEqual([
      {
        flow: 'widget',
        outcome: 'verified',
        orderId: 'B-2',
        key: `${token.slice(0, 4)}…`,
        amount: 2500,
        durationMs: duration,
        source: 'reconcile',
      },
    ]);
    expect(heard[RECONCILE_CHANNEL]).toEqual([{ summary, durationMs: duration }]);
    expect(summary.fulfilled).toBe(1);
  });
});

describe('khalti-express:khalti', () => {
  it('one message per HTTP call, retries included, with Khalti’s status and the client’s classification', async () => {
    const shop = createShop({ baseUrl: sandbox.baseUrl });
    const { token } = sandbox.pay({ amount: 1000 });
    sandbox.faults.inject('server_error', { on: 'verify' });
    sandbox.faults.inject('server_error', { on: 'status' });
    await shop.post({ token, amount: 1000, orderId: 'A-17' });
    expect(heard[KHALTI_CHANNEL]).toEqual([
      { endpoint: 'verify', httpStatus: 503, outcome: 'unavailable', reason: 'server_error', durationMs: duration },
      { endpoint: 'status', httpStatus: 503, outcome: 'unavailable', reason: 'server_error', durationMs: duration },
      { endpoint: 'status', httpStatus: 200, outcome: 'status', durationMs: duration },
      // Status says "Confirmed" (the verify never reached Khalti), so verify is asked once more.
      { endpoint: 'verify', httpStatus: 200, outcome: 'completed', durationMs: duration },
    ]);
  });

  it('refund and initiate calls, and a timeout with no status', async () => {
    const shop = createShop({ baseUrl: sandbox.baseUrl, epayment: EPAYMENT, timeoutMs: 200 });
    const { token } = sandbox.pay({ amount: 1000 });
    await shop.post({ token, amount: 1000, orderId: 'A-17' });
    heard[KHALTI_CHANNEL] = [];
    await shop.router.refund({ token }, { amount: 100 });
    sandbox.faults.inject('hang', { on: 'epayment_initiate' });
    await request(shop.app).post('/khalti/initiate').send({ orderId: 'B-2' });
    expect(heard[KHALTI_CHANNEL]).toEqual([
      { endpoint: 'refund', httpStatus: 200, outcome: 'refunded', durationMs: duration },
      { endpoint: 'initiate', outcome: 'unavailable', reason: 'timeout', durationMs: duration },
    ]);
  });
});

describe('khalti-express:overloaded', () => {
  it('one message per refusal, with its Retry-After; the refused request is no payment message', async () => {
    const shop = createShop({ baseUrl: sandbox.baseUrl, maxInFlight: 1 });
    sandbox.faults.latencyMs = 300;
    const first = sandbox.pay({ amount: 1000 });
    const second = sandbox.pay({ amount: 2500 });
    const slow = shop.post({ token: first.token, amount: 1000, orderId: 'A-17' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await shop.post({ token: second.token, amount: 2500, orderId: 'B-2' })).status).toBe(503);
    await slow;
    expect(heard[OVERLOADED_CHANNEL]).toEqual([{ retryAfter: 1 }]);
    expect(heard[PAYMENT_CHANNEL]!.map((m) => m.orderId)).toEqual(['A-17']);
  });
});

describe('with no subscriber', () => {
  it('publishes nothing and builds nothing', async () => {
    for (const [name, listener] of listeners) unsubscribe(name, listener);
    listeners.clear();
    const shop = createShop({ baseUrl: sandbox.baseUrl });
    const { token } = sandbox.pay({ amount: 1000 });
    expect((await shop.post({ token, amount: 1000, orderId: 'A-17' })).status).toBe(200);
    expect(heard[PAYMENT_CHANNEL]).toEqual([]);
    expect(heard[KHALTI_CHANNEL]).toEqual([]);
  });
});
