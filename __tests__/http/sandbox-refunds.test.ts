// The sandbox's refund API, over HTTP: Khalti's documented success body, partial refunds, the error bodies
// we guessed (unknown transaction, a payment not completed, too much), auth, faults, and refunds visible
// afterwards in the verify, status and lookup answers.
import { randomBytes } from 'node:crypto';
import { useSandbox } from '../helpers/sandbox';
import { MISSING_KEY, INVALID_KEY } from '../fixtures/khalti';

const sandbox = useSandbox();

const REFUNDED = { detail: 'Transaction refund successful.' };
const NOT_FOUND = { detail: 'Not found.' };
const NOT_REFUNDABLE = { detail: 'Transaction is not refundable.', error_key: 'validation_error' };
const TOO_MUCH = { amount: ['Refund amount exceeds the refundable amount.'], error_key: 'validation_error' };
const NOT_AN_AMOUNT = { amount: ['A valid integer is required.'], error_key: 'validation_error' };

async function call(method: string, path: string, body?: unknown, authorization: string | null = `Key ${sandbox.secretKey}`) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (authorization !== null) headers.Authorization = authorization;
  const response = await fetch(`${sandbox.baseUrl}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body: parsed };
}

const refund = (transactionId: string, body?: unknown, authorization?: string | null) =>
  call('POST', `/api/merchant-transaction/${transactionId}/refund/`, body, authorization);
const verify = (token: string, amount: number) => call('POST', '/api/v2/payment/verify/', { token, amount });
const status = (token: string, amount: number) => call('GET', `/api/v2/payment/status/?token=${token}&amount=${amount}`);
const lookup = (pidx: string) => call('POST', '/api/v2/epayment/lookup/', { pidx });

/** A widget payment of 1000 paisa, verified (Completed). */
async function completedWidget(): Promise<{ token: string; idx: string }> {
  const paid = sandbox.pay({ amount: 1000 });
  expect((await verify(paid.token, 1000)).status).toBe(200);
  return paid;
}

describe('sandbox refund API', () => {
  it('refunds a completed widget payment in full with no body, with Khalti’s documented answer', async () => {
    const { token, idx } = await completedWidget();
    expect(await refund(idx)).toEqual({ status: 200, body: REFUNDED });
    expect(sandbox.transaction(token)).toMatchObject({ state: 'Refunded', refundedAmount: 1000 });
    expect((await verify(token, 1000)).body).toMatchObject({ idx, refunded: true });
    expect((await status(token, 1000)).body).toMatchObject({ state: 'Refunded' });
    expect(await refund(idx)).toEqual({ status: 400, body: NOT_REFUNDABLE });
  });

  it('refunds partially, refuses more than what is left, and refunds the rest', async () => {
    const { token, idx } = await completedWidget();
    expect(await refund(idx, { amount: 300 })).toEqual({ status: 200, body: REFUNDED });
    expect(sandbox.transaction(token)).toMatchObject({ state: 'Partially refunded', refundedAmount: 300 });
    expect((await verify(token, 1000)).body).toMatchObject({ refunded: true, state: { name: 'Completed' } });
    expect(await refund(idx, { amount: 701 })).toEqual({ status: 400, body: TOO_MUCH });
    expect(sandbox.transaction(token)?.refundedAmount).toBe(300);
    expect(await refund(idx, { amount: '700' })).toEqual({ status: 200, body: REFUNDED });
    expect(sandbox.transaction(token)).toMatchObject({ state: 'Refunded', refundedAmount: 1000 });
  });

  it.each([[0], [-5], [1.5], ['ten'], [null]])('answers a field error for the amount %p and refunds nothing', async (amount) => {
    const { token, idx } = await completedWidget();
    expect(await refund(idx, { amount })).toEqual({ status: 400, body: NOT_AN_AMOUNT });
    expect(sandbox.transaction(token)).toMatchObject({ state: 'Completed', refundedAmount: 0 });
  });

  it('answers not found for an unknown transaction, and not refundable for a payment not completed', async () => {
    expect(await refund('NoSuchTransaction123')).toEqual({ status: 404, body: NOT_FOUND });
    const confirmed = sandbox.pay({ amount: 1000 });
    expect(await refund(confirmed.idx)).toEqual({ status: 400, body: NOT_REFUNDABLE });
    expect(sandbox.transaction(confirmed.token)).toMatchObject({ state: 'Confirmed', refundedAmount: 0 });
    const { pidx } = sandbox.epay({ amount: 1000, status: 'Completed' });
    const transactionId = sandbox.epayment(pidx)!.transactionId!;
    sandbox.setEpaymentStatus(pidx, 'Pending');
    expect(await refund(transactionId)).toEqual({ status: 400, body: NOT_REFUNDABLE });
  });

  it('refunds an ePayment by its lookup transaction_id; lookup shows it afterwards', async () => {
    const { pidx } = sandbox.epay({ amount: 2000, status: 'Completed' });
    const transactionId = sandbox.epayment(pidx)!.transactionId!;
    expect(await refund(transactionId, { amount: 500 })).toEqual({ status: 200, body: REFUNDED });
    expect((await lookup(pidx)).body).toMatchObject({ status: 'Partially Refunded', refunded: true, transaction_id: transactionId });
    expect(await refund(transactionId)).toEqual({ status: 200, body: REFUNDED });
    expect((await lookup(pidx)).body).toMatchObject({ status: 'Refunded', refunded: true });
    expect(sandbox.epayment(pidx)?.refundedAmount).toBe(2000);
  });

  it('refuses a missing or wrong key as Khalti does, and refunds nothing', async () => {
    const { token, idx } = await completedWidget();
    expect(await refund(idx, undefined, null)).toEqual({ status: 401, body: MISSING_KEY });
    // A well-formed key that is not the sandbox's, made here: no key-shaped literal in the repository.
    const wrongKey = `test_secret_key_${randomBytes(16).toString('hex')}`;
    expect(wrongKey).not.toBe(sandbox.secretKey);
    expect(await refund(idx, undefined, `Key ${wrongKey}`)).toEqual({
      status: 401,
      body: INVALID_KEY,
    });
    expect(sandbox.transaction(token)?.refundedAmount).toBe(0);
  });

  it('faults: Khalti down refunds nothing; a lost answer refunds and never answers', async () => {
    const { token, idx } = await completedWidget();
    sandbox.faults.inject('server_error', { on: 'refund' });
    expect((await refund(idx)).status).toBeGreaterThanOrEqual(500);
    expect(sandbox.transaction(token)?.refundedAmount).toBe(0);
    sandbox.faults.inject('lost_reply', { on: 'refund' });
    const lost = fetch(`${sandbox.baseUrl}/api/merchant-transaction/${idx}/refund/`, {
      method: 'POST',
      headers: { Authorization: `Key ${sandbox.secretKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ amount: 100 }),
      signal: AbortSignal.timeout(300),
    });
    await expect(lost).rejects.toThrow();
    expect(sandbox.transaction(token)?.refundedAmount).toBe(100);
    // A fault aimed at the refund endpoint leaves verify alone.
    sandbox.faults.inject('server_error', { on: 'refund' });
    expect((await verify(token, 1000)).status).toBe(200);
    expect(sandbox.requests.filter((r) => r.path.endsWith('/refund/')).map((r) => r.authorization)).toEqual([
      'Key [redacted]',
      'Key [redacted]',
    ]);
  });
});
