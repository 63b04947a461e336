// The `client` option: any KhaltiApi (a wrapper that traces, a fake) replaces the built-in client, and
// the flow's guarantees hold on top of it.
import { KhaltiError, type KhaltiApi } from '../../lib';
import { createShop, SECRET_KEY } from '../helpers/app';

/** A Khalti that knows one payment, recording every call it gets. */
function fakeKhalti(paid: { token: string; amount: number }) {
  const calls: string[] = [];
  const client: KhaltiApi = {
    verify: async (token, amount) => {
      calls.push(`verify ${token} ${amount}`);
      return token === paid.token && amount === paid.amount
        ? { kind: 'completed', transactionId: 'fake-idx', amount, body: { idx: 'fake-idx' } }
        : { kind: 'rejected', httpStatus: 400, body: { token: ['Invalid token.'] } };
    },
    status: async (token) => {
      calls.push(`status ${token}`);
      return { kind: 'unavailable', reason: 'network' };
    },
    initiate: async () => ({ kind: 'unavailable', reason: 'network' }),
    lookup: async () => ({ kind: 'unavailable', reason: 'network' }),
    refund: async () => ({ kind: 'unavailable', reason: 'network' }),
  };
  return { client, calls };
}

describe('the client option', () => {
  it('verifies through the given KhaltiApi, once per payment, and exposes it as router.client', async () => {
    const khalti = fakeKhalti({ token: 'tok_fake_1', amount: 1000 });
    const shop = createShop({ client: khalti.client, baseUrl: undefined });
    const first = await shop.post({ token: 'tok_fake_1', amount: 1000, orderId: 'A-17' });
    const again = await shop.post({ token: 'tok_fake_1', amount: 1000, orderId: 'A-17' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ ok: true, transactionId: 'fake-idx', replayed: false });
    expect(again.body).toMatchObject({ ok: true, replayed: true });
    expect(khalti.calls).toEqual(['verify tok_fake_1 1000']);
    expect(shop.verified).toHaveLength(1);
    expect(shop.router.client).toBe(khalti.client);
  });

  it('fails closed on what the given client answers: a rejection frees the token, nothing fulfils', async () => {
    const khalti = fakeKhalti({ token: 'tok_fake_1', amount: 1000 });
    const shop = createShop({ client: khalti.client, baseUrl: undefined });
    const response = await shop.post({ token: 'tok_other', amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(402);
    expect(response.body.error.code).toBe('payment_rejected');
    expect(shop.verified).toHaveLength(0);
  });

  it('keeps the claim when the given client throws (an unknown outcome), and answers internal_error', async () => {
    const boom = async (): Promise<never> => {
      throw new Error('boom');
    };
    const shop = createShop({ client: { verify: boom, status: boom, initiate: boom, lookup: boom, refund: boom }, baseUrl: undefined });
    const response = await shop.post({ token: 'tok_thrown', amount: 1000, orderId: 'A-17' });
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('internal_error');
    expect(await shop.router.store.get('tok_thrown')).toMatchObject({ state: 'claimed', leaseUntil: 0 });
    expect(shop.verified).toHaveLength(0);
  });

  it('refuses at start-up a client without the KhaltiApi methods, and a client with baseUrl', () => {
    const base = { secretKey: SECRET_KEY, expectedAmount: () => 1000, onVerified: () => undefined };
    const start = (extra: object) => () => createShop({ ...base, baseUrl: undefined, ...extra });
    const partial = { verify: async () => ({ kind: 'unavailable', reason: 'network' }) };
    expect(start({ client: partial })).toThrow(KhaltiError);
    expect(start({ client: partial })).toThrow(/client.*verify, status, initiate, lookup, refund/);
    const { client } = fakeKhalti({ token: 't', amount: 1000 });
    expect(start({ client, baseUrl: 'https://khalti.com' })).toThrow(/`client` and `baseUrl` conflict/);
  });
});
