// ePayment (KPG-2) through KhaltiClient: initiate and lookup against nock fixtures of Khalti's documented bodies.
import nock from 'nock';
import { KhaltiClient } from '../../lib';
import { normalizeLookupStatus } from '../../lib/khalti/classify-epayment';
import { classifyInitiate, classifyLookup } from '../../lib/khalti/classify-epayment';
import { KHALTI_URL, SECRET_KEY } from '../helpers/app';
import { INITIATE_REQUEST, INVALID_KEY, lookupBody } from '../fixtures/khalti';

const client = () => new KhaltiClient({ secretKey: SECRET_KEY, baseUrl: KHALTI_URL, sleep: async () => undefined });
const raw = (status: number, body: unknown) => ({ status, text: typeof body === 'string' ? body : JSON.stringify(body) });
const lookupScope = (pidx = 'HT6o6PEZRWFJ5ygavzHWd5') =>
  nock(KHALTI_URL).post('/api/v2/epayment/lookup/', { pidx }).matchHeader('authorization', `Key ${SECRET_KEY}`);

describe('KhaltiClient.initiate', () => {
  it('POSTs the request as JSON with the Key header and answers pidx and payment_url', async () => {
    const body = {
      pidx: 'bZQLD9wRVWo4CdESSfuSsB',
      payment_url: 'https://test-pay.khalti.com/?pidx=bZQLD9wRVWo4CdESSfuSsB',
      expires_at: '2023-05-25T16:26:16.471649+05:45',
      expires_in: 1800,
    };
    const scope = nock(KHALTI_URL)
      .post('/api/v2/epayment/initiate/', INITIATE_REQUEST)
      .matchHeader('authorization', `Key ${SECRET_KEY}`)
      .reply(200, body);
    expect(await client().initiate(INITIATE_REQUEST)).toEqual({
      kind: 'initiated',
      pidx: body.pidx,
      paymentUrl: body.payment_url,
      expiresAt: body.expires_at,
      expiresIn: 1800,
      body,
    });
    expect(scope.isDone()).toBe(true);
  });

  it.each([
    [{ return_url: ['Enter a valid URL.'], error_key: 'validation_error' }, { return_url: ['Enter a valid URL.'] }],
    [
      { amount: ['Amount should be greater than Rs. 10, that is 1000 paisa.'], error_key: 'validation_error' },
      { amount: ['Amount should be greater than Rs. 10, that is 1000 paisa.'] },
    ],
    [
      { purchase_order_name: ['This field may not be blank.'], error_key: 'validation_error' },
      { purchase_order_name: ['This field may not be blank.'] },
    ],
  ])('answers Khalti’s field messages for a validation error %#', async (body, fields) => {
    nock(KHALTI_URL).post('/api/v2/epayment/initiate/').reply(400, body);
    expect(await client().initiate(INITIATE_REQUEST)).toMatchObject({ kind: 'invalid', httpStatus: 400, fields });
  });

  it('is never retried', async () => {
    const scope = nock(KHALTI_URL).post('/api/v2/epayment/initiate/').reply(503);
    expect(await client().initiate(INITIATE_REQUEST)).toMatchObject({ kind: 'unavailable', reason: 'server_error' });
    expect(scope.isDone()).toBe(true);
  });

  it('treats our key being refused, and odd 200 bodies, for what they are', async () => {
    nock(KHALTI_URL).post('/api/v2/epayment/initiate/').reply(401, INVALID_KEY);
    expect(await client().initiate(INITIATE_REQUEST)).toMatchObject({ kind: 'auth_failed', detail: 'Invalid token.' });
    expect(classifyInitiate(raw(200, { pidx: 'x' }))).toMatchObject({ kind: 'unavailable', reason: 'bad_response' });
    expect(classifyInitiate(raw(200, { pidx: 'x', payment_url: 'javascript:alert(1)' }))).toMatchObject({ kind: 'unavailable' });
  });
});

describe('KhaltiClient.lookup', () => {
  it.each([
    ['Completed', 200, 'completed'],
    ['Pending', 200, 'pending'],
    ['Initiated', 200, 'initiated'],
    ['Refunded', 200, 'refunded'],
    ['Partially Refunded', 200, 'partially_refunded'],
    ['Partially refunded', 200, 'partially_refunded'],
    ['Expired', 400, 'expired'],
    ['User canceled', 400, 'user_canceled'],
  ] as const)('status %s (HTTP %i) → %s', async (status, httpStatus, normalized) => {
    const body = lookupBody(status);
    lookupScope().reply(httpStatus, body);
    expect(await client().lookup('HT6o6PEZRWFJ5ygavzHWd5')).toEqual({
      kind: 'status',
      status: normalized,
      totalAmount: 1000,
      transactionId: status === 'Completed' ? 'GFq9PFS7b2iYvL8Lir9oXe' : null,
      refunded: normalized === 'refunded' || normalized === 'partially_refunded',
      body,
    });
  });

  it('answers not_found for a pidx Khalti does not know', async () => {
    lookupScope('nope').reply(404, { detail: 'Not found.', error_key: 'validation_error' });
    expect(await client().lookup('nope')).toMatchObject({ kind: 'not_found', httpStatus: 404 });
    expect(classifyLookup(raw(400, { detail: 'Not found.', error_key: 'validation_error' })).kind).toBe('not_found');
  });

  it('treats an unknown status as a status to hold on, and garbage as unusable', () => {
    expect(classifyLookup(raw(200, lookupBody('Settling')))).toMatchObject({ kind: 'status', status: 'unknown' });
    expect(classifyLookup(raw(200, '<html>'))).toMatchObject({ kind: 'unavailable', reason: 'bad_response' });
    expect(classifyLookup(raw(200, lookupBody('Completed', { total_amount: '1000' })))).toMatchObject({ totalAmount: null });
  });

  it('retries an unusable answer, as the status API does', async () => {
    lookupScope().reply(502);
    lookupScope().reply(200, lookupBody('Completed'));
    expect(await client().lookup('HT6o6PEZRWFJ5ygavzHWd5')).toMatchObject({ kind: 'status', status: 'completed' });
  });

  it('normalizes statuses case- and space-insensitively', () => {
    expect(normalizeLookupStatus('COMPLETED')).toBe('completed');
    expect(normalizeLookupStatus(' partially_refunded ')).toBe('partially_refunded');
    expect(normalizeLookupStatus('User Cancelled')).toBe('user_canceled');
    expect(normalizeLookupStatus(undefined)).toBe('unknown');
  });
});
