// Inputs an attacker chooses (issue 12, defects 7, 10 and 11, and the smaller items): ill-formed order
// ids, an option named like the secret key, order ids that steer a redirect, HEAD on the return route,
// and log lines an order id or a pidx could make unreadable.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nock from 'nock';
import request from 'supertest';
import { KhaltiClient, khaltiVerifier, MemoryStore } from '../../lib';
import { SqliteStore } from '../../lib/stores/sqlite';
import { useSandbox } from '../helpers/sandbox';
import { createShop, KHALTI_URL, SECRET_KEY, type ShopOptions } from '../helpers/app';
import { nockVerify, verifySuccess } from '../fixtures/khalti';

const EPAYMENT = {
  returnUrl: 'https://shop.example/khalti/return',
  websiteUrl: 'https://shop.example',
  successUrl: (orderId: string) => `/${orderId}`, // unencoded on purpose: the package must still hold
  failureUrl: (orderId: string, code: string) => `/orders/${encodeURIComponent(orderId)}?error=${code}`,
};

describe('7. ill-formed order ids are refused at the door', () => {
  const LONE = ['A-\uD800', 'A-\uDC00x', '\uDBFF'];

  it.each(LONE)('verify, order id in the body (%#)', async (orderId) => {
    const shop = createShop({ prices: { [orderId]: 1000 } });
    const response = await shop.post({ token: 'TOKENabcdefghijk', amount: 1000, orderId });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'invalid_request', details: ['orderId'] });
    expect(shop.expectedAmountCalls).toEqual([]);
  });

  it.each(LONE)('verify, order id from getOrderId (%#)', async (orderId) => {
    const shop = createShop({ prices: { [orderId]: 1000 }, getOrderId: () => orderId });
    expect((await shop.post({ token: 'TOKENabcdefghijk', amount: 1000 })).body.error.code).toBe('invalid_request');
  });

  it.each(LONE)('ePayment initiate (%#)', async (orderId) => {
    const shop = createShop({ prices: { [orderId]: 1000 }, epayment: EPAYMENT });
    const response = await request(shop.app).post('/khalti/initiate').send({ orderId });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'invalid_request', details: ['orderId'] });
  });

  it('a well-formed pair (an emoji) is an ordinary order id', async () => {
    const shop = createShop({ prices: { 'A-😀': 1000 } });
    nockVerify('TOKENabcdefghijk').reply(200, verifySuccess());
    expect((await shop.post({ token: 'TOKENabcdefghijk', amount: 1000, orderId: 'A-😀' })).status).toBe(200);
  });

  it('on SQLite, two ids that would both be stored as U+FFFD never reach the ledger', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'khx-lone-'));
    const store = new SqliteStore({ filename: path.join(dir, 'ledger.db') });
    try {
      const shop = createShop({ store, prices: { 'A-\uD800': 1000, 'A-\uD801': 1000 } });
      for (const orderId of ['A-\uD800', 'A-\uD801']) {
        expect((await shop.post({ token: 'TOKENabcdefghijk', amount: 1000, orderId })).status).toBe(400);
      }
      expect(await store.get('TOKENabcdefghijk')).toBeNull();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('10. the secret key is never echoed at start-up', () => {
  const base = { expectedAmount: () => 1000, onVerified: () => undefined };

  it('not even as the name of an unknown option, in the factory', () => {
    let thrown: unknown;
    try {
      khaltiVerifier({ ...base, secretKey: SECRET_KEY, [SECRET_KEY]: 1 } as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'invalid_option', message: expect.stringContaining('unknown option `[redacted]`') });
    expect(JSON.stringify(thrown) + String((thrown as Error).message) + String((thrown as Error).stack)).not.toContain(SECRET_KEY);
  });

  it('nor in new KhaltiClient, nor inside epayment', () => {
    const messages: string[] = [];
    for (const make of [
      () => new KhaltiClient({ secretKey: SECRET_KEY, [SECRET_KEY]: 1 } as never),
      () => khaltiVerifier({ ...base, secretKey: SECRET_KEY, epayment: { ...EPAYMENT, [SECRET_KEY]: true } } as never),
    ]) {
      try {
        make();
      } catch (error) {
        messages.push(`${(error as Error).message} ${(error as Error).stack}`);
      }
    }
    expect(messages).toHaveLength(2);
    for (const message of messages) {
      expect(message).toContain('[redacted]');
      expect(message).not.toContain(SECRET_KEY);
    }
  });
});

describe('11. the return route redirects only to the shop', () => {
  const sandbox = useSandbox({ secretKey: SECRET_KEY });

  async function paidReturn(orderId: string, options: ShopOptions = {}) {
    const shop = createShop({ baseUrl: sandbox.baseUrl, prices: { [orderId]: 1000 }, epayment: EPAYMENT, ...options });
    const { pidx } = (await request(shop.app).post('/khalti/initiate').send({ orderId })).body as { pidx: string };
    sandbox.setEpaymentStatus(pidx, 'Completed');
    return { shop, landed: await request(shop.app).get(`/khalti/return?pidx=${pidx}`) };
  }

  it.each([
    ['scheme-relative', '/evil.example/x'],
    ['backslash', '\\evil.example/x'],
  ])('refuses a %s target an order id made', async (_name, orderId) => {
    const { shop, landed } = await paidReturn(orderId);
    expect(landed.status).toBe(500);
    expect(landed.headers.location).toBeUndefined();
    expect(landed.body.error.code).toBe('internal_error');
    expect(shop.logs.some((l) => l.level === 'error' && /off the shop’s origin/.test(l.message))).toBe(true);
    // The payment itself was fulfilled: only the redirect was refused.
    expect(shop.verified).toHaveLength(1);
  });

  it('refuses another origin unless the app lists it in redirectOrigins', async () => {
    const away = { ...EPAYMENT, successUrl: () => 'https://pay.partner.example/done' };
    expect((await paidReturn('A-1', { epayment: away })).landed.status).toBe(500);
    const listed = await paidReturn('A-2', { epayment: { ...away, redirectOrigins: ['https://pay.partner.example'] } });
    expect(listed.landed.status).toBe(302);
    expect(listed.landed.headers.location).toBe('https://pay.partner.example/done');
  });

  it('allows a path and an absolute URL on the shop’s own origin', async () => {
    expect((await paidReturn('orders/A-3')).landed.headers.location).toBe('/orders/A-3');
    const absolute = { ...EPAYMENT, successUrl: (id: string) => `https://shop.example/orders/${encodeURIComponent(id)}` };
    expect((await paidReturn('A-4', { epayment: absolute })).landed.headers.location).toBe('https://shop.example/orders/A-4');
  });

  it('checks redirectOrigins at start-up', () => {
    expect(() => createShop({ epayment: { ...EPAYMENT, redirectOrigins: ['not a url'] } })).toThrow(
      /option `epayment.redirectOrigins.0` is invalid/,
    );
  });

  it('HEAD (a link prefetcher) is answered without verifying anything', async () => {
    const shop = createShop({ baseUrl: sandbox.baseUrl, epayment: EPAYMENT });
    const { pidx } = (await request(shop.app).post('/khalti/initiate').send({ orderId: 'A-17' })).body as { pidx: string };
    sandbox.setEpaymentStatus(pidx, 'Completed');
    sandbox.requests.length = 0;
    const head = await request(shop.app).head(`/khalti/return?pidx=${pidx}`);
    expect(head.status).toBe(204);
    expect(sandbox.requests).toEqual([]);
    expect(shop.verified).toEqual([]);
    expect(await shop.router.store.get(`pidx:${pidx}`)).toMatchObject({ state: 'claimed' });
  });
});

describe('log lines', () => {
  it('an ePayment is logged by its pidx, masked in its own field, not as token="pidx…"', async () => {
    const store = new MemoryStore();
    const shop = createShop({ store, baseUrl: KHALTI_URL, epayment: EPAYMENT });
    const pidx = 'HT6o6PEZRWFJ5ygavzHWd5';
    await store.claim({ token: `pidx:${pidx}`, orderId: 'A-17', amount: 1000, owner: 'dead', now: Date.now() - 10_000, leaseMs: 1 });
    nock(KHALTI_URL).post('/api/v2/epayment/lookup/').times(3).reply(503, 'down');
    await shop.router.reconcile();
    const lines = shop.logs.map((l) => l.message);
    expect(lines.some((line) => line.includes('pidx="HT6o…"'))).toBe(true);
    expect(lines.filter((line) => line.includes('token="pidx'))).toEqual([]);
    expect(lines.filter((line) => line.includes(pidx))).toEqual([]);
  });

  it('escapes U+2028 and U+2029, which split a line in some viewers', async () => {
    const shop = createShop({
      expectedAmount: () => {
        throw new Error('price service down');
      },
    });
    await shop.post({ token: 'TOKENabcdefghijk', amount: 1000, orderId: 'A\u2028B\u2029C' });
    const line = shop.logs.find((l) => l.message.includes('expectedAmount threw'))!.message;
    expect(line).toContain('orderId="A\\u2028B\\u2029C"');
    expect(line).not.toMatch(/[\u2028\u2029]/);
  });
});
