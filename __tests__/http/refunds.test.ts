// Refunds through the ledger, against the sandbox: full and partial, widget and ePayment, over-refunds,
// duplicates, concurrency, a lost answer resolved without a second POST, Khalti down, refundUnfulfillable.
import nock from 'nock';
import request from 'supertest';
import { isKhaltiError, type RefundedPayment } from '../../lib';
import { assertNoSecretLeaked, createShop, KHALTI_URL, recordForLeakCheck, SECRET_KEY, type ShopOptions } from '../helpers/app';
import { nockStatus, nockVerify, STATUS_BODIES, TOKEN, verifySuccess } from '../fixtures/khalti';
import { onHostedPage, SHOP_EPAYMENT } from '../helpers/epayment';
import { useSandbox } from '../helpers/sandbox';

const sandbox = useSandbox({ secretKey: SECRET_KEY });

const EPAYMENT = SHOP_EPAYMENT;

function refundShop(options: ShopOptions = {}) {
  const refunded: RefundedPayment[] = [];
  const shop = createShop({
    baseUrl: sandbox.baseUrl,
    epayment: EPAYMENT,
    onRefunded: (refund) => {
      refunded.push(refund);
    },
    ...options,
  });
  return Object.assign(shop, { refunded });
}

const refundPosts = () => sandbox.requests.filter((r) => r.path.endsWith('/refund/'));

/** A widget payment of `amount`, paid and fulfilled through the shop. */
async function paidWidget(shop: ReturnType<typeof refundShop>, orderId = 'A-17', amount = 1000): Promise<string> {
  const { token } = sandbox.pay({ amount });
  expect((await shop.post({ token, amount, orderId })).status).toBe(200);
  return token;
}

/** An ePayment, paid on the hosted page and fulfilled through the return route. */
async function paidEpayment(shop: ReturnType<typeof refundShop>, orderId = 'A-17'): Promise<string> {
  const { pidx } = (await request(shop.app).post('/khalti/initiate').send({ orderId })).body as { pidx: string };
  const back = await onHostedPage(sandbox, pidx);
  expect((await request(shop.app).get(back)).status).toBe(302);
  return pidx;
}

async function refundError(promise: Promise<unknown>): Promise<{ code: string; statusCode: number; details?: string[]; message: string }> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!isKhaltiError(error)) throw new Error(`expected a KhaltiError, got ${String(error)}`);
  // Whatever the app does with a refund error (log it, show it), the secret must not be in it.
  recordForLeakCheck(JSON.stringify({ message: error.message, details: error.details, string: String(error), cause: String(error.cause) }));
  return error;
}

afterEach(() => assertNoSecretLeaked());

describe('router.refund()', () => {
  it('refunds a widget payment in full with one POST and no body, and tells onRefunded once', async () => {
    const shop = refundShop();
    const token = await paidWidget(shop);
    const idx = sandbox.transaction(token)!.idx;
    const receipt = await shop.router.refund({ token });
    expect(receipt).toEqual({ ok: true, orderId: 'A-17', amount: 1000, refundedTotal: 1000, remaining: 0, transactionId: idx });
    expect(sandbox.transaction(token)).toMatchObject({ state: 'Refunded', refundedAmount: 1000 });
    expect(refundPosts()).toEqual([
      expect.objectContaining({ method: 'POST', path: `/api/merchant-transaction/${idx}/refund/`, body: null }),
    ]);
    expect(shop.refunded).toEqual([
      { orderId: 'A-17', key: { token }, amount: 1000, refundedTotal: 1000, remaining: 0, transactionId: idx },
    ]);
    const again = await refundError(shop.router.refund({ token }));
    expect(again).toMatchObject({ code: 'refund_too_large', statusCode: 409 });
    expect(refundPosts()).toHaveLength(1);
    const record = await shop.router.store.get(token);
    expect(record).toMatchObject({ state: 'fulfilled', refundedTotal: 1000, refund: null });
  });

  it('makes partial refunds of an ePayment, naming the amount, until nothing is left', async () => {
    const shop = refundShop();
    const pidx = await paidEpayment(shop);
    const transactionId = sandbox.epayment(pidx)!.transactionId!;
    expect(await shop.router.refund({ pidx }, { amount: 400 })).toMatchObject({
      amount: 400,
      refundedTotal: 400,
      remaining: 600,
      transactionId,
    });
    expect(sandbox.epayment(pidx)).toMatchObject({ status: 'Partially Refunded', refundedAmount: 400 });
    expect((await refundError(shop.router.refund({ pidx }, { amount: 601 }))).code).toBe('refund_too_large');
    expect(await shop.router.refund({ pidx })).toMatchObject({ amount: 600, refundedTotal: 1000, remaining: 0 });
    expect(sandbox.epayment(pidx)).toMatchObject({ status: 'Refunded', refundedAmount: 1000 });
    expect(refundPosts().map((r) => r.body)).toEqual([{ amount: 400 }, { amount: 600 }]);
    expect(shop.refunded.map((r) => [r.key, r.amount])).toEqual([
      [{ pidx }, 400],
      [{ pidx }, 600],
    ]);
  });

  it('refuses bad input, unknown payments and payments not settled, without asking Khalti', async () => {
    const shop = refundShop();
    const token = await paidWidget(shop);
    expect(await refundError(shop.router.refund({ token }, { amount: 10.5 }))).toMatchObject({ code: 'invalid_request', statusCode: 400 });
    expect((await refundError(shop.router.refund({ token }, { amount: 0 }))).details).toEqual(['amount']);
    expect((await refundError(shop.router.refund({ token }, { mobile: 'x' }))).details).toEqual(['mobile']);
    expect((await refundError(shop.router.refund({} as { token: string }))).code).toBe('invalid_request');
    expect(await refundError(shop.router.refund({ token: 'unknowntoken' }))).toMatchObject({ code: 'refund_not_allowed', statusCode: 409 });
    await shop.router.store.claim({ token: 'inflight', orderId: 'B-2', amount: 2500, owner: 'o', now: Date.now(), leaseMs: 60_000 });
    expect((await refundError(shop.router.refund({ token: 'inflight' }))).code).toBe('refund_not_allowed');
    expect(refundPosts()).toEqual([]);
  });

  it('refunds the duplicate payment of an order already paid (unfulfillable)', async () => {
    const shop = refundShop();
    await paidWidget(shop);
    const { token: second } = sandbox.pay({ amount: 1000 });
    // The order is paid: a widget token for it is refused without asking Khalti, so plant the duplicate
    // the way a race leaves it (Khalti confirmed, then the order turned out paid).
    await shop.router.store.claim({
      token: second,
      orderId: 'A-17',
      amount: 1000,
      owner: 'o',
      now: Date.now(),
      leaseMs: 60_000,
      evenIfOrderPaid: true,
    });
    const idx = sandbox.transaction(second)!.idx;
    await shop.router.store.markVerified(second, 'o', { transactionId: idx, khalti: null, now: Date.now() });
    expect(await shop.router.store.get(second)).toMatchObject({ state: 'unfulfillable', failureCode: 'order_already_paid' });
    // The sandbox payment is Confirmed: complete it as verify would have.
    await fetch(`${sandbox.baseUrl}/api/v2/payment/verify/`, {
      method: 'POST',
      headers: { Authorization: `Key ${SECRET_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: second, amount: 1000 }),
    });
    expect(await shop.router.refund({ token: second })).toMatchObject({ orderId: 'A-17', amount: 1000, transactionId: idx });
    expect(sandbox.transaction(second)?.state).toBe('Refunded');
  });

  it('sends one POST for concurrent refunds of one payment; the others get refund_in_progress', async () => {
    const shop = refundShop();
    const token = await paidWidget(shop);
    sandbox.faults.latencyMs = 30;
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => shop.router.refund({ token }, { amount: 100 })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const codes = results.flatMap((r) => (r.status === 'rejected' && isKhaltiError(r.reason) ? [r.reason.code] : []));
    expect(codes).toEqual(Array(9).fill('refund_in_progress'));
    expect(refundPosts()).toHaveLength(1);
    expect(sandbox.transaction(token)?.refundedAmount).toBe(100);
  });

  it('answer lost: refund_unknown, then reconcile() resolves it as made, with no second POST', async () => {
    const shop = refundShop({ timeoutMs: 300 });
    const token = await paidWidget(shop);
    sandbox.faults.inject('lost_reply', { on: 'refund' });
    expect(await refundError(shop.router.refund({ token }, { amount: 300 }))).toMatchObject({ code: 'refund_unknown', statusCode: 502 });
    expect(sandbox.transaction(token)?.refundedAmount).toBe(300);
    expect((await shop.router.store.get(token))?.refund).toMatchObject({ amount: 300, owner: null, leaseUntil: 0 });
    expect((await refundError(shop.router.refund({ token }, { amount: 300 }))).code).toBe('refund_in_progress');
    expect(shop.refunded).toEqual([]);
    const summary = await shop.router.reconcile();
    expect(summary.refunds).toEqual({ resolved: 1, pending: 0, refunded: 0 });
    expect(await shop.router.store.get(token)).toMatchObject({ refundedTotal: 300, refund: null });
    expect(refundPosts()).toHaveLength(1);
    expect(shop.refunded).toEqual([expect.objectContaining({ amount: 300, refundedTotal: 300, remaining: 700 })]);
    expect(shop.logs.some((l) => l.level === 'error' && l.message.includes('refund outcome unknown'))).toBe(true);
  });

  it('Khalti down during the refund and during its resolution: pending until Khalti shows it was not made', async () => {
    const shop = refundShop({ refundSettleMs: 0 });
    const pidx = await paidEpayment(shop);
    sandbox.faults.inject('server_error', { on: 'refund' });
    expect((await refundError(shop.router.refund({ pidx }))).code).toBe('refund_unknown');
    expect(sandbox.epayment(pidx)?.status).toBe('Completed');
    sandbox.faults.inject('server_error', { on: 'lookup', times: 3 });
    expect((await shop.router.reconcile()).refunds).toEqual({ resolved: 0, pending: 1, refunded: 0 });
    expect((await refundError(shop.router.refund({ pidx }))).code).toBe('refund_in_progress');
    expect((await shop.router.reconcile()).refunds).toEqual({ resolved: 1, pending: 0, refunded: 0 });
    expect(await shop.router.store.get(`pidx:${pidx}`)).toMatchObject({
      refundedTotal: 0,
      refund: null,
      refunds: [expect.objectContaining({ outcome: 'rejected' })],
    });
    expect(refundPosts()).toHaveLength(1);
    expect(await shop.router.refund({ pidx })).toMatchObject({ amount: 1000, remaining: 0 });
    expect(refundPosts()).toHaveLength(2);
  });

  it('believes "not refunded" only after refundSettleMs', async () => {
    const shop = refundShop();
    const token = await paidWidget(shop);
    sandbox.faults.inject('server_error', { on: 'refund' });
    expect((await refundError(shop.router.refund({ token }))).code).toBe('refund_unknown');
    expect((await shop.router.reconcile()).refunds).toEqual({ resolved: 0, pending: 1, refunded: 0 });
    expect((await shop.router.store.get(token))?.refund).not.toBeNull();
  });

  it('answers refund_rejected with Khalti’s words when Khalti will not refund, recording nothing refunded', async () => {
    const shop = refundShop();
    const pidx = await paidEpayment(shop);
    sandbox.setEpaymentStatus(pidx, 'Refunded'); // refunded by hand in the merchant dashboard
    const rejected = await refundError(shop.router.refund({ pidx }, { amount: 100 }));
    expect(rejected).toMatchObject({ code: 'refund_rejected', statusCode: 402, details: ['Transaction is not refundable.'] });
    expect(JSON.stringify(rejected)).not.toContain(SECRET_KEY);
    expect(await shop.router.store.get(`pidx:${pidx}`)).toMatchObject({ refundedTotal: 0, refund: null });
    expect(shop.refunded).toEqual([]);
  });
});

describe('settleRefund(): a pending refund Khalti’s state cannot settle, settled by hand', () => {
  it('keeps an ambiguous refund pending, then settles it by its id as made, with no POST, telling onRefunded once', async () => {
    const shop = refundShop({ timeoutMs: 300, refundSettleMs: 0 });
    const token = await paidWidget(shop);
    await shop.router.refund({ token }, { amount: 300 });
    sandbox.faults.inject('lost_reply', { on: 'refund' });
    expect((await refundError(shop.router.refund({ token }, { amount: 200 }))).code).toBe('refund_unknown');
    // Khalti shows "partially refunded" either way: reconcile() cannot tell, and holds.
    expect((await shop.router.reconcile()).refunds).toEqual({ resolved: 0, pending: 1, refunded: 0 });
    const pending = (await shop.router.store.get(token))!.refund!;
    expect(await refundError(shop.router.settleRefund({ token }, { refundId: 'another', outcome: 'refunded' }))).toMatchObject({
      code: 'refund_not_allowed',
    });
    expect(await refundError(shop.router.settleRefund({ token }, { refundId: pending.id, outcome: 'maybe' as never }))).toMatchObject({
      code: 'invalid_request',
    });
    const posts = refundPosts().length;
    expect(await shop.router.settleRefund({ token }, { refundId: pending.id, outcome: 'refunded' })).toEqual({
      ok: true,
      orderId: 'A-17',
      outcome: 'refunded',
      refundedTotal: 500,
      remaining: 500,
    });
    expect(refundPosts()).toHaveLength(posts);
    expect(await shop.router.store.get(token)).toMatchObject({ refundedTotal: 500, refund: null });
    expect(shop.refunded.map((r) => r.amount)).toEqual([300, 200]);
    expect(await refundError(shop.router.settleRefund({ token }, { refundId: pending.id, outcome: 'refunded' }))).toMatchObject({
      code: 'refund_not_allowed',
    });
    expect(shop.logs.some((l) => l.level === 'warn' && l.message.includes('settled by hand: made'))).toBe(true);
  });

  it('settles one as not made (the refunded total unchanged), and refuses one being made right now', async () => {
    const shop = refundShop();
    const token = await paidWidget(shop);
    const begun = await shop.router.store.beginRefund(token, {
      id: 'r-1',
      amount: 100,
      mobile: null,
      owner: 'live',
      now: Date.now(),
      leaseMs: 60_000,
    });
    expect(begun.status).toBe('begun');
    expect(await refundError(shop.router.settleRefund({ token }, { refundId: 'r-1', outcome: 'not_refunded' }))).toMatchObject({
      code: 'refund_in_progress',
    });
    await shop.router.store.endRefundLease(token, 'r-1', 'live', Date.now());
    expect(await shop.router.settleRefund({ token }, { refundId: 'r-1', outcome: 'not_refunded' })).toMatchObject({
      outcome: 'not_refunded',
      refundedTotal: 0,
      remaining: 1000,
    });
    expect(await shop.router.store.get(token)).toMatchObject({
      refundedTotal: 0,
      refund: null,
      refunds: [expect.objectContaining({ id: 'r-1', outcome: 'rejected' })],
    });
    expect(shop.refunded).toEqual([]);
  });
});

describe('reconcile() with refundUnfulfillable', () => {
  it('refunds each unfulfillable payment in full exactly once over repeated runs', async () => {
    const shop = refundShop({ refundUnfulfillable: true, prices: { 'A-17': 1000, 'B-2': 1000 } });
    const duplicates: string[] = [];
    for (const orderId of ['A-17', 'B-2']) {
      const { token } = sandbox.pay({ amount: 1000, state: 'Completed' });
      const idx = sandbox.transaction(token)!.idx;
      await shop.router.store.claim({ token, orderId, amount: 1000, owner: 'o', now: Date.now(), leaseMs: 60_000 });
      await shop.router.store.markUnfulfillable(token, 'o', {
        transactionId: idx,
        khalti: null,
        failureCode: 'amount_mismatch',
        now: Date.now(),
      });
      duplicates.push(token);
    }
    expect((await shop.router.reconcile()).refunds).toEqual({ resolved: 0, pending: 0, refunded: 2 });
    expect((await shop.router.reconcile()).refunds).toEqual({ resolved: 0, pending: 0, refunded: 0 });
    expect(refundPosts()).toHaveLength(2);
    for (const token of duplicates) expect(sandbox.transaction(token)?.state).toBe('Refunded');
    expect(shop.refunded.map((r) => r.orderId).sort()).toEqual(['A-17', 'B-2']);
  });

  it('stays off by default', async () => {
    const shop = refundShop();
    const { token } = sandbox.pay({ amount: 1000, state: 'Completed' });
    await shop.router.store.claim({ token, orderId: 'A-17', amount: 1000, owner: 'o', now: Date.now(), leaseMs: 60_000 });
    await shop.router.store.markUnfulfillable(token, 'o', {
      transactionId: sandbox.transaction(token)!.idx,
      khalti: null,
      failureCode: 'amount_mismatch',
      now: Date.now(),
    });
    expect((await shop.router.reconcile()).refunds).toEqual({ resolved: 0, pending: 0, refunded: 0 });
    expect(refundPosts()).toEqual([]);
  });
});

describe('refunds keep the secret', () => {
  const IDX = String(verifySuccess().idx);
  const nockRefund = () =>
    nock(KHALTI_URL).post(`/api/merchant-transaction/${IDX}/refund/`).matchHeader('authorization', `Key ${SECRET_KEY}`);

  async function paidAtKhalti(options: ShopOptions = {}) {
    const shop = createShop({ baseUrl: KHALTI_URL, ...options });
    nockVerify().reply(200, verifySuccess());
    expect((await shop.post({ token: TOKEN, amount: 1000, orderId: 'A-17' })).status).toBe(200);
    return shop;
  }

  it('scrubs the key from Khalti’s words when a refusal echoes it', async () => {
    const shop = await paidAtKhalti();
    nockRefund().reply(400, { detail: `Key ${SECRET_KEY} may not refund.`, amount: [`bad for ${SECRET_KEY}`] });
    const error = await refundError(shop.router.refund({ token: TOKEN }));
    expect(error).toMatchObject({ code: 'refund_rejected', details: ['Key [redacted] may not refund.', 'amount: bad for [redacted]'] });
    expect(nock.isDone()).toBe(true);
  });

  it('a refused key, Khalti down, and a lost answer resolved from the status API: no key in any error or log line', async () => {
    const shop = await paidAtKhalti({ timeoutMs: 200, refundSettleMs: 0 });
    nockRefund().reply(401, { detail: 'Invalid token.', status_code: 401 });
    expect(await refundError(shop.router.refund({ token: TOKEN }, { amount: 100 }))).toMatchObject({ code: 'refund_rejected' });
    nockRefund().reply(503, `<html>${SECRET_KEY}</html>`);
    expect(await refundError(shop.router.refund({ token: TOKEN }, { amount: 100 }))).toMatchObject({ code: 'refund_unknown' });
    nockStatus().reply(200, STATUS_BODIES['Partially refunded']);
    expect((await shop.router.reconcile()).refunds).toEqual({ resolved: 1, pending: 0, refunded: 0 });
    expect(await shop.router.store.get(TOKEN)).toMatchObject({ refundedTotal: 100, refund: null });
    nockRefund().delay(1000).reply(200, { detail: 'Transaction refund successful.' });
    expect(await refundError(shop.router.refund({ token: TOKEN }, { amount: 100 }))).toMatchObject({ code: 'refund_unknown' });
    expect(shop.logs.length).toBeGreaterThan(3);
    for (const line of shop.logs) recordForLeakCheck(line.message);
  });
});
