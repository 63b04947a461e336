// The sandbox's ePayment: initiate (with Khalti's validation errors), lookup (every status and its HTTP
// code), and the hosted payment page that pays or cancels and sends the customer back to return_url.
import { KhaltiClient } from '../../lib';
import { useSandbox } from '../helpers/sandbox';
import { INITIATE_REQUEST, INVALID_KEY } from '../fixtures/khalti';

const sandbox = useSandbox();
let client: KhaltiClient;
beforeEach(() => {
  client = new KhaltiClient({ secretKey: sandbox.secretKey, baseUrl: sandbox.baseUrl, sleep: async () => undefined });
});

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
  redirect: 'manual' as const,
});

describe('sandbox ePayment initiate', () => {
  it('answers pidx, payment_url, expires_at and expires_in', async () => {
    const outcome = await client.initiate(INITIATE_REQUEST);
    expect(outcome).toMatchObject({ kind: 'initiated', expiresIn: 1800 });
    if (outcome.kind !== 'initiated') throw new Error('not initiated');
    expect(outcome.pidx).toMatch(/^[A-Za-z0-9]{22}$/);
    expect(outcome.paymentUrl).toBe(`${sandbox.baseUrl}/epayment/?pidx=${outcome.pidx}`);
    expect(outcome.expiresAt).toMatch(/\+05:45$/);
    expect(sandbox.epayment(outcome.pidx)).toMatchObject({ status: 'Initiated', amount: 1000, purchaseOrderId: 'A-17' });
  });

  it.each([
    [{ return_url: 'not a url' }, { return_url: ['Enter a valid URL.'] }],
    [{ website_url: '' }, { website_url: ['This field may not be blank.'] }],
    [{ amount: 999 }, { amount: ['Amount should be greater than Rs. 10, that is 1000 paisa.'] }],
    [{ amount: 'ten' }, { amount: ['A valid integer is required.'] }],
    [{ purchase_order_name: '  ' }, { purchase_order_name: ['This field may not be blank.'] }],
    [{ amount_breakdown: [{ label: 'Tea', amount: 500 }] }, { amount_breakdown: [expect.any(String)] }],
  ])('refuses %p with Khalti’s validation_error body', async (overrides, fields) => {
    const outcome = await client.initiate({ ...INITIATE_REQUEST, ...overrides } as typeof INITIATE_REQUEST);
    expect(outcome).toMatchObject({ kind: 'invalid', httpStatus: 400, fields, body: { error_key: 'validation_error' } });
  });

  it('needs the secret key', async () => {
    const wrong = new KhaltiClient({ secretKey: 'test_secret_key_wrong', baseUrl: sandbox.baseUrl });
    expect(await wrong.initiate(INITIATE_REQUEST)).toMatchObject({ kind: 'auth_failed', detail: INVALID_KEY.detail });
  });
});

describe('sandbox ePayment lookup', () => {
  it.each([
    ['Initiated', 200],
    ['Pending', 200],
    ['Completed', 200],
    ['Refunded', 200],
    ['Partially Refunded', 200],
    ['Expired', 400],
    ['User canceled', 400],
  ] as const)('%s answers HTTP %i with the status body', async (status, httpStatus) => {
    const { pidx } = sandbox.epay({ amount: 2500, status });
    const response = await fetch(`${sandbox.baseUrl}/api/v2/epayment/lookup/`, {
      method: 'POST',
      headers: { Authorization: `Key ${sandbox.secretKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ pidx }),
    });
    expect(response.status).toBe(httpStatus);
    const body = await response.json();
    expect(body).toEqual({
      pidx,
      total_amount: 2500,
      status,
      transaction_id: status === 'Completed' ? expect.stringMatching(/^[A-Za-z0-9]{22}$/) : null,
      fee: status === 'Completed' ? 75 : 0,
      refunded: status === 'Refunded' || status === 'Partially Refunded',
    });
  });

  it('answers 404 "Not found." for an unknown pidx', async () => {
    expect(await client.lookup('UnknownPidx00000000000')).toMatchObject({
      kind: 'not_found',
      httpStatus: 404,
      body: { detail: 'Not found.', error_key: 'validation_error' },
    });
  });

  it('can be made to fail like Khalti on a bad day', async () => {
    const { pidx } = sandbox.epay({ amount: 1000 });
    sandbox.faults.inject('server_error', { on: 'lookup', times: 3 });
    expect(await client.lookup(pidx)).toMatchObject({ kind: 'unavailable', reason: 'server_error' });
    expect(await client.lookup(pidx)).toMatchObject({ kind: 'status', status: 'initiated' });
  });
});

describe('sandbox hosted payment page', () => {
  async function initiated(): Promise<string> {
    const outcome = await client.initiate({ ...INITIATE_REQUEST, return_url: 'https://shop.example/khalti/return?from=khalti' });
    if (outcome.kind !== 'initiated') throw new Error('not initiated');
    return outcome.pidx;
  }

  it('shows the payment, pays with the test credentials and redirects to return_url with Khalti’s parameters', async () => {
    const pidx = await initiated();
    const page = await fetch(`${sandbox.baseUrl}/epayment/?pidx=${pidx}`);
    expect(await page.text()).toContain('Pay Rs. 10.00');
    const paid = await fetch(`${sandbox.baseUrl}/epayment/pay`, form({ pidx, mobile: '9800000002', pin: '1111', otp: '987654' }));
    expect(paid.status).toBe(302);
    const back = new URL(paid.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe('https://shop.example/khalti/return');
    const params = Object.fromEntries(back.searchParams);
    const { transactionId } = sandbox.epayment(pidx)!;
    expect(params).toEqual({
      from: 'khalti',
      pidx,
      status: 'Completed',
      transaction_id: transactionId,
      tidx: transactionId,
      txnId: transactionId,
      amount: '1000',
      total_amount: '1000',
      mobile: '98XXXXXXX2',
      purchase_order_id: 'A-17',
      purchase_order_name: 'Order A-17',
    });
    expect(await client.lookup(pidx)).toMatchObject({ kind: 'status', status: 'completed', transactionId, totalAmount: 1000 });
  });

  it('cancels back to return_url with status "User canceled"', async () => {
    const pidx = await initiated();
    const cancelled = await fetch(`${sandbox.baseUrl}/epayment/cancel`, form({ pidx }));
    expect(cancelled.status).toBe(302);
    expect(new URL(cancelled.headers.get('location')!).searchParams.get('status')).toBe('User canceled');
    expect(await client.lookup(pidx)).toMatchObject({ kind: 'status', status: 'user_canceled' });
  });

  it('shows an error for a wrong MPIN or OTP and leaves the payment unpaid', async () => {
    const pidx = await initiated();
    const wrongPin = await fetch(`${sandbox.baseUrl}/epayment/pay`, form({ pidx, mobile: '9800000003', pin: '2222', otp: '987654' }));
    expect(wrongPin.status).toBe(400);
    expect(await wrongPin.text()).toContain('Attempts Remaining: 2');
    const wrongOtp = await fetch(`${sandbox.baseUrl}/epayment/pay`, form({ pidx, mobile: '9800000003', pin: '1111', otp: '000000' }));
    expect(await wrongOtp.text()).toContain('Invalid confirmation code.');
    expect(sandbox.epayment(pidx)?.status).toBe('Initiated');
  });

  it('answers 404 for an unknown pidx, and shows a finished payment as such', async () => {
    expect((await fetch(`${sandbox.baseUrl}/epayment/?pidx=nope`)).status).toBe(404);
    const { pidx } = sandbox.epay({ amount: 1000, status: 'Expired' });
    expect(await (await fetch(`${sandbox.baseUrl}/epayment/?pidx=${pidx}`)).text()).toContain('This payment is Expired.');
    expect(sandbox.returnUrlFor(pidx)).toContain('status=Expired');
  });

  it('lets tests move a payment through its statuses', async () => {
    const { pidx } = sandbox.epay({ amount: 1000 });
    sandbox.setEpaymentStatus(pidx, 'Pending');
    expect(await client.lookup(pidx)).toMatchObject({ status: 'pending' });
    sandbox.setEpaymentStatus(pidx, 'Completed');
    expect(await client.lookup(pidx)).toMatchObject({ status: 'completed', transactionId: expect.any(String) });
    expect(() => sandbox.setEpaymentStatus('nope', 'Expired')).toThrow(/no ePayment/);
  });
});

describe('sandbox ePayment expiry', () => {
  it('turns an unpaid payment Expired after expires_in', async () => {
    const { pidx } = sandbox.epay({ amount: 1000 });
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 1801 * 1000);
    try {
      expect(sandbox.epayment(pidx)?.status).toBe('Expired');
    } finally {
      clock.mockRestore();
    }
    expect(await client.lookup(pidx)).toMatchObject({ status: 'expired' });
  });
});
