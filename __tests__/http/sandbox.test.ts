// The sandbox reproduces Khalti's documented bodies, states, typos and auth errors, and injects faults.
import { createKhaltiSandbox } from '../../lib/sandbox';
import { useSandbox } from '../helpers/sandbox';
import { INVALID_KEY, INVALID_PAYMENT_TOKEN, MISSING_KEY, STATUS_BODIES } from '../fixtures/khalti';

const sandbox = useSandbox();

const auth = () => ({ Authorization: `Key ${sandbox.secretKey}` });

async function call(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${sandbox.baseUrl}${path}`, { method, ...init });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body };
}

const verifyJson = (token: string, amount: number | string, headers: Record<string, string> = auth()) =>
  call('POST', '/api/v2/payment/verify/', {
    body: JSON.stringify({ token, amount }),
    headers: { ...headers, 'Content-Type': 'application/json' },
  });
const verifyForm = (token: string, amount: number) =>
  call('POST', '/api/v2/payment/verify/', {
    body: new URLSearchParams({ token, amount: String(amount) }).toString(),
    headers: { ...auth(), 'Content-Type': 'application/x-www-form-urlencoded' },
  });
const statusOf = (token: string, amount: number) =>
  call('GET', `/api/v2/payment/status/?token=${token}&amount=${amount}`, { headers: auth() });

describe('server API: verify', () => {
  it('moves a Confirmed payment to Completed and answers the documented record (JSON body)', async () => {
    const { token, idx } = sandbox.pay({ amount: 1000 });
    expect(sandbox.transaction(token)?.state).toBe('Confirmed');
    const { status, body } = await verifyJson(token, 1000);
    expect(status).toBe(200);
    expect(body).toEqual({
      idx,
      type: { idx: expect.any(String), name: 'Wallet payment' },
      state: { idx: expect.any(String), name: 'Completed', template: 'is complete' },
      amount: 1000,
      fee_amount: 30,
      refunded: false,
      created_on: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+05:45$/),
      ebanker: null,
      user: { idx: expect.any(String), name: expect.any(String), mobile: expect.stringMatching(/^98X{7}\d$/) },
      merchant: { idx: expect.any(String), name: expect.any(String), mobile: expect.any(String) },
    });
    expect(sandbox.transaction(token)?.state).toBe('Completed');
  });

  it('accepts a form body too', async () => {
    const { token } = sandbox.pay({ amount: 2500 });
    expect((await verifyForm(token, 2500)).status).toBe(200);
  });

  it('answers {"token": ["Invalid token."]} for an unknown token or a wrong amount', async () => {
    const { token } = sandbox.pay({ amount: 1000 });
    expect(await verifyJson('UnknownToken0000000000', 1000)).toMatchObject({ status: 400, body: INVALID_PAYMENT_TOKEN });
    expect(await verifyJson(token, 2000)).toMatchObject({ status: 400, body: INVALID_PAYMENT_TOKEN });
    expect(sandbox.transaction(token)?.state).toBe('Confirmed');
  });

  it('answers field errors for missing or non-integer fields', async () => {
    expect(await verifyJson('', 'ten')).toMatchObject({
      status: 400,
      body: { token: ['This field is required.'], amount: ['A valid integer is required.'] },
    });
  });

  it('answers both documented 401 bodies', async () => {
    const { token } = sandbox.pay({ amount: 1000 });
    expect(await verifyJson(token, 1000, { Authorization: 'Key test_secret_key_wrong' })).toMatchObject({ status: 401, body: INVALID_KEY });
    expect(await verifyJson(token, 1000, { Authorization: sandbox.secretKey })).toMatchObject({ status: 401, body: MISSING_KEY });
    expect(await verifyJson(token, 1000, {})).toMatchObject({ status: 401, body: MISSING_KEY });
    expect(sandbox.transaction(token)?.state).toBe('Confirmed');
  });

  it('re-verifying answers the record again by default', async () => {
    const { token } = sandbox.pay({ amount: 1000 });
    await verifyJson(token, 1000);
    const again = await verifyJson(token, 1000);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ state: { name: 'Completed' }, refunded: false });
    expect(sandbox.transaction(token)?.verifyCalls).toBe(2);
  });

  it('re-verifying answers "Invalid token." with alreadyVerified: invalid_token', async () => {
    const strict = await createKhaltiSandbox({ alreadyVerified: 'invalid_token' });
    try {
      const { token } = strict.pay({ amount: 1000 });
      const headers = { Authorization: `Key ${strict.secretKey}`, 'Content-Type': 'application/json' };
      const post = () =>
        fetch(`${strict.baseUrl}/api/v2/payment/verify/`, { method: 'POST', headers, body: JSON.stringify({ token, amount: 1000 }) });
      expect((await post()).status).toBe(200);
      const again = await post();
      expect(again.status).toBe(400);
      expect(await again.json()).toEqual(INVALID_PAYMENT_TOKEN);
    } finally {
      await strict.close();
    }
  });

  it.each([
    ['Initiated', 'Initiated', false],
    ['Failed', 'Failed', false],
    ['Refunded', 'Completed', true],
    ['Partially refunded', 'Completed', true],
  ] as const)('a %s payment: the record says state %s, refunded %s', async (state, name, refunded) => {
    const { token } = sandbox.pay({ amount: 1000, state });
    const { status, body } = await verifyJson(token, 1000);
    expect(status).toBe(200);
    expect(body).toMatchObject({ state: { name }, refunded });
    expect(sandbox.transaction(token)?.state).toBe(state);
  });

  it('refuses other methods and unknown paths like Khalti', async () => {
    expect(await call('GET', '/api/v2/payment/verify/', { headers: auth() })).toMatchObject({
      status: 405,
      body: { detail: 'Method "GET" not allowed.' },
    });
    expect(await call('GET', '/api/v2/nothing/')).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
  });
});

describe('server API: status', () => {
  it.each([
    ['Completed', 'Complete'],
    ['Confirmed', 'Confirmed'],
    ['Initiated', 'Initiated'],
    ['Failed', 'Failed'],
    ['Refunded', 'Refunded'],
    ['Partially refunded', 'Partially refunded'],
  ] as const)('a %s payment reports the documented %s body, typos included', async (state, documented) => {
    const { token } = sandbox.pay({ amount: 1000, state });
    expect(await statusOf(token, 1000)).toMatchObject({ status: 200, body: STATUS_BODIES[documented] });
  });

  it('reports "Transaction not found" for a wrong token or a wrong amount', async () => {
    const { token } = sandbox.pay({ amount: 1000 });
    expect((await statusOf('UnknownToken0000000000', 1000)).body).toEqual(STATUS_BODIES.Error);
    expect((await statusOf(token, 1001)).body).toEqual(STATUS_BODIES.Error);
  });

  it('needs the secret key', async () => {
    const { token } = sandbox.pay({ amount: 1000 });
    expect(await call('GET', `/api/v2/payment/status/?token=${token}&amount=1000`)).toMatchObject({ status: 401, body: MISSING_KEY });
  });

  it('follows a payment from Confirmed to Complete through verify', async () => {
    const { token } = sandbox.pay({ amount: 1000 });
    expect((await statusOf(token, 1000)).body).toEqual(STATUS_BODIES.Confirmed);
    await verifyJson(token, 1000);
    expect((await statusOf(token, 1000)).body).toEqual(STATUS_BODIES.Complete);
  });
});

describe('faults', () => {
  it('answers a 5xx for the next N server calls, then recovers', async () => {
    const { token } = sandbox.pay({ amount: 1000 });
    sandbox.faults.inject('server_error', { times: 2, status: 502 });
    expect((await verifyJson(token, 1000)).status).toBe(502);
    expect((await statusOf(token, 1000)).status).toBe(502);
    expect(sandbox.faults.pending).toEqual([]);
    expect((await verifyJson(token, 1000)).status).toBe(200);
  });

  it('drops the connection', async () => {
    sandbox.faults.inject('drop');
    await expect(verifyJson('x', 1000)).rejects.toThrow();
  });

  it('hangs until the client gives up', async () => {
    sandbox.faults.inject('hang');
    const started = Date.now();
    await expect(
      fetch(`${sandbox.baseUrl}/api/v2/payment/status/?token=x&amount=1`, { headers: auth(), signal: AbortSignal.timeout(200) }),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('completes a verify but never answers (lost reply)', async () => {
    const { token } = sandbox.pay({ amount: 1000 });
    sandbox.faults.inject('lost_reply', { on: 'verify' });
    await expect(
      fetch(`${sandbox.baseUrl}/api/v2/payment/verify/`, {
        method: 'POST',
        headers: { ...auth(), 'Content-Type': 'application/json' },
        body: JSON.stringify({ token, amount: 1000 }),
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toThrow();
    expect(sandbox.transaction(token)?.state).toBe('Completed');
  });

  it('answers HTML instead of JSON', async () => {
    sandbox.faults.inject('non_json');
    const { status, body, headers } = await verifyJson('x', 1000);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toContain('text/html');
    expect(String(body)).toContain('<html>');
  });

  it('refuses our key with a 401', async () => {
    const { token } = sandbox.pay({ amount: 1000 });
    sandbox.faults.inject('unauthorized', { on: 'verify' });
    expect(await verifyJson(token, 1000)).toMatchObject({ status: 401, body: INVALID_KEY });
    expect(sandbox.transaction(token)?.state).toBe('Confirmed');
  });

  it('completes a payment but reports a different amount', async () => {
    const { token } = sandbox.pay({ amount: 1000 });
    sandbox.faults.inject('wrong_amount', { amount: 500 });
    expect((await statusOf(token, 1000)).body).toEqual(STATUS_BODIES.Confirmed);
    expect(await verifyJson(token, 1000)).toMatchObject({ status: 200, body: { amount: 500, state: { name: 'Completed' } } });
    expect(sandbox.transaction(token)?.state).toBe('Completed');
  });

  it('completes a payment that then turns out refunded', async () => {
    const { token } = sandbox.pay({ amount: 1000 });
    sandbox.faults.inject('refunded');
    expect(await verifyJson(token, 1000)).toMatchObject({ status: 200, body: { refunded: true } });
    expect((await statusOf(token, 1000)).body).toEqual(STATUS_BODIES.Refunded);
  });

  it('adds latency to every answer', async () => {
    sandbox.faults.latencyMs = 150;
    const started = Date.now();
    await statusOf('x', 1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    sandbox.faults.clear();
    expect(sandbox.faults.latencyMs).toBe(0);
  });
});

describe('request log', () => {
  it('records method, path, query and body, with the Authorization header redacted', async () => {
    const { token } = sandbox.pay({ amount: 1000 });
    await verifyJson(token, 1000);
    await statusOf(token, 1000);
    await call('GET', '/api/v2/bank/', { headers: { Authorization: 'Bearer abc' } });
    expect(sandbox.requests.map(({ method, path, query, body, authorization }) => ({ method, path, query, body, authorization }))).toEqual([
      { method: 'POST', path: '/api/v2/payment/verify/', query: {}, body: { token, amount: 1000 }, authorization: 'Key [redacted]' },
      { method: 'GET', path: '/api/v2/payment/status/', query: { token, amount: '1000' }, body: null, authorization: 'Key [redacted]' },
      { method: 'GET', path: '/api/v2/bank/', query: {}, body: null, authorization: '[redacted]' },
    ]);
    expect(JSON.stringify(sandbox.requests)).not.toContain(sandbox.secretKey);
  });
});

describe('client API (what the checkout page and the widget call)', () => {
  const initiate = (overrides: Record<string, unknown> = {}) =>
    call('POST', '/api/v2/payment/initiate/', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        public_key: sandbox.publicKey,
        product_identity: 'A-17',
        product_name: 'Tea',
        product_url: 'http://shop/',
        amount: 1000,
        mobile: '9800000001',
        transaction_pin: '1111',
        widgetId: 'w1',
        source: 'checkout_v2.1',
        merchant_note: 'gift',
        ...overrides,
      }),
    });
  const confirm = (token: string, code = '987654') =>
    call('POST', '/api/v2/payment/confirm/', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ public_key: sandbox.publicKey, transaction_pin: '1111', token, confirmation_code: code }),
    });

  it('initiate + confirm produce the onSuccess payload, and verify completes the same payment', async () => {
    const started = await initiate();
    expect(started.status).toBe(200);
    expect(started.headers.get('access-control-allow-origin')).toBe('*');
    const { token } = started.body as { token: string };
    expect(token).toMatch(/^[A-Za-z0-9]{22}$/);
    expect(sandbox.transaction(token)?.state).toBe('Initiated');
    const confirmed = await confirm(token);
    expect(confirmed.body).toEqual({
      idx: expect.stringMatching(/^[A-Za-z0-9]{22}$/),
      token,
      amount: 1000,
      mobile: '9800000001',
      product_identity: 'A-17',
      product_name: 'Tea',
      product_url: 'http://shop/',
      merchant_note: 'gift',
    });
    expect(sandbox.transaction(token)?.state).toBe('Confirmed');
    expect((await verifyJson(token, 1000)).body).toMatchObject({
      idx: (confirmed.body as { idx: string }).idx,
      state: { name: 'Completed' },
    });
  });

  it('counts down tries on a wrong PIN', async () => {
    expect((await initiate({ transaction_pin: '2222' })).body).toEqual({
      detail: 'Mobile or pin invalid.',
      tries_remaining: '2',
      error_key: 'validation_error',
    });
    expect((await initiate({ transaction_pin: '2222' })).body).toMatchObject({ tries_remaining: '1' });
    expect((await initiate({ transaction_pin: '2222' })).body).toMatchObject({ tries_remaining: '0' });
    expect((await initiate()).body).toMatchObject({ detail: 'Mobile or pin invalid.', tries_remaining: '0' });
  });

  it('refuses a wrong OTP, another public key, a bad mobile and a small amount', async () => {
    const { token } = (await initiate()).body as { token: string };
    expect(await confirm(token, '000000')).toMatchObject({ status: 400, body: { confirmation_code: ['Invalid confirmation code.'] } });
    expect((await initiate({ public_key: 'test_public_key_other' })).body).toMatchObject({ public_key: ['Invalid public key.'] });
    expect((await initiate({ mobile: '12345' })).body).toMatchObject({ mobile: [expect.any(String)] });
    expect((await initiate({ amount: 999 })).body).toMatchObject({ amount: ['Amount should be greater than Rs. 10, that is 1000 paisa.'] });
  });

  it('answers CORS preflights and the bank list', async () => {
    const preflight = await call('OPTIONS', '/api/v2/payment/initiate/');
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect((await call('GET', '/api/v2/bank/?payment_type=sdkebanking&page_size=100')).body).toMatchObject({ records: expect.any(Array) });
  });

  it('serves the checkout page with the escaped order details', async () => {
    const page = await call('GET', `/checkout?amount=2500&product_identity=A-17&product_name=${encodeURIComponent('<Tea & "cake">')}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(String(page.body)).toContain('Pay Rs. 25.00');
    expect(String(page.body)).toContain('&lt;Tea &amp; &quot;cake&quot;&gt;');
    expect(String(page.body)).not.toContain('<Tea');
    expect(String(page.body)).toContain(sandbox.publicKey);
  });
});

describe('throughput mode', () => {
  it('pays bench_ tokens on first sight, records no requests, and lists completed tokens', async () => {
    const fast = await createKhaltiSandbox({ autoPay: true, recordRequests: false });
    try {
      const headers = { Authorization: `Key ${fast.secretKey}`, 'Content-Type': 'application/json' };
      const verify = (token: string) =>
        fetch(`${fast.baseUrl}/api/v2/payment/verify/`, { method: 'POST', headers, body: JSON.stringify({ token, amount: 1000 }) });
      expect((await verify('bench_1')).status).toBe(200);
      expect((await verify('bench_2')).status).toBe(200);
      expect((await verify('NotABenchToken')).status).toBe(400);
      expect(fast.transaction('bench_1')?.state).toBe('Completed');
      expect(fast.completedTokens().sort()).toEqual(['bench_1', 'bench_2']);
      expect(fast.requests).toEqual([]);
    } finally {
      await fast.close();
    }
  });

  it('is off by default', async () => {
    const { status } = await verifyJson('bench_1', 1000);
    expect(status).toBe(400);
  });
});

describe('pay()', () => {
  it('takes a chosen token once', () => {
    expect(sandbox.pay({ amount: 1000, token: 'chosen' }).token).toBe('chosen');
    expect(() => sandbox.pay({ amount: 1000, token: 'chosen' })).toThrow(/already exists/);
  });

  it('refuses a non-integer amount', () => {
    expect(() => sandbox.pay({ amount: 10.5 })).toThrow(/amount/);
  });

  it('builds checkout URLs', () => {
    expect(sandbox.checkoutUrl({ amount: 1000, productIdentity: 'A 17', productName: 'Tea' })).toBe(
      `${sandbox.baseUrl}/checkout?amount=1000&product_identity=A+17&product_name=Tea`,
    );
  });
});
