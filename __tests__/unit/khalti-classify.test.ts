// Classification of Khalti's bodies: pure, fail-closed, amounts left for the flow to compare.
import { classifyStatus, classifyVerify, parseObject } from '../../lib/khalti/classify';
import { classifyLookup } from '../../lib/khalti/classify-epayment';
import { INVALID_KEY, lookupBody, MISSING_KEY, STATUS_BODIES, verifySuccess } from '../fixtures/khalti';

const raw = (status: number, body: unknown) => ({ status, text: typeof body === 'string' ? body : JSON.stringify(body) });

describe('classifyVerify', () => {
  it('accepts only a 200 Completed, unrefunded record with idx', () => {
    expect(classifyVerify(raw(200, verifySuccess()))).toMatchObject({
      kind: 'completed',
      transactionId: '8xmeJnNXfoVjCvGcZiiGe7',
      amount: 1000,
    });
  });

  it('not completed: Completed but refunded', () => {
    expect(classifyVerify(raw(200, verifySuccess({ refunded: true })))).toMatchObject({ kind: 'not_completed', refunded: true });
  });

  it.each(['completed', 'COMPLETED', ' Completed '])('Completed in any case (%p) is completed: Khalti captured the money', (name) => {
    expect(classifyVerify(raw(200, verifySuccess({ state: { name } }))).kind).toBe('completed');
  });

  // After a call that moves money, an unrecognised state is no clear "no": the status API decides.
  it.each(['Pending', 'Initiated', 'Complete', 'Refunded', 'Something new'])(
    'an unrecognised state (%p) is outcome unknown, never a decline',
    (name) => {
      expect(classifyVerify(raw(200, verifySuccess({ state: { name } })))).toMatchObject({ kind: 'unavailable', reason: 'bad_response' });
    },
  );

  it.each([
    ['no idx', { idx: undefined }],
    ['empty idx', { idx: '' }],
    ['no state', { state: undefined }],
    ['state without name', { state: { idx: 'x' } }],
    ['refunded missing', { refunded: undefined }],
    ['refunded as a string', { refunded: 'false' }],
    ['amount as a string', { amount: '1000' }],
    ['fractional amount', { amount: 1000.5 }],
  ])('odd 200 bodies are unusable, not success: %s', (_name, overrides) => {
    expect(classifyVerify(raw(200, verifySuccess(overrides)))).toMatchObject({ kind: 'unavailable', reason: 'bad_response' });
  });

  it.each([
    [401, INVALID_KEY, 'auth_failed'],
    [401, MISSING_KEY, 'auth_failed'],
    [403, { detail: 'Forbidden' }, 'auth_failed'],
    [400, { token: ['Invalid token.'] }, 'rejected'],
    [404, { detail: 'Not found.' }, 'rejected'],
    [400, '<html>', 'rejected'],
    [500, {}, 'unavailable'],
    [503, 'Service temporarily unavailable', 'unavailable'],
    [429, {}, 'unavailable'],
    [200, '<html>', 'unavailable'],
    [200, '[1]', 'unavailable'],
    [204, '', 'unavailable'],
  ])('HTTP %i %p → %s', (status, body, kind) => {
    expect(classifyVerify(raw(status, body)).kind).toBe(kind);
  });

  it('keeps the detail of a refused key', () => {
    expect(classifyVerify(raw(401, MISSING_KEY))).toEqual({
      kind: 'auth_failed',
      httpStatus: 401,
      detail: 'Authentication credentials were not provided.',
    });
    expect(classifyVerify(raw(401, 'nope'))).toEqual({ kind: 'auth_failed', httpStatus: 401, detail: null });
  });
});

describe('classifyStatus', () => {
  it.each(Object.entries(STATUS_BODIES))('state %s', (state, body) => {
    expect(classifyStatus(raw(200, body))).toEqual({ kind: 'status', state, body });
  });

  it('reads a state body on a 4xx, not on a 5xx', () => {
    expect(classifyStatus(raw(400, STATUS_BODIES.Error)).kind).toBe('status');
    expect(classifyStatus(raw(500, STATUS_BODIES.Complete)).kind).toBe('unavailable');
  });

  it('treats unknown states and garbage as unusable', () => {
    expect(classifyStatus(raw(200, { status: true, state: 'Completed' }))).toMatchObject({ kind: 'unavailable', reason: 'bad_response' });
    expect(classifyStatus(raw(200, { status: true, state: 'complete' })).kind).toBe('unavailable');
    expect(classifyStatus(raw(200, 'ok')).kind).toBe('unavailable');
    expect(classifyStatus(raw(401, INVALID_KEY)).kind).toBe('auth_failed');
    expect(classifyStatus(raw(503, '')).kind).toBe('unavailable');
  });
});

describe('classifyLookup', () => {
  it.each([
    [404, { detail: 'Not found.', error_key: 'validation_error' }],
    [400, { detail: 'Not found.', error_key: 'validation_error' }],
    [404, { detail: 'not found' }],
  ])('HTTP %i with Khalti’s JSON not-found body is not_found', (status, body) => {
    expect(classifyLookup(raw(status, body)).kind).toBe('not_found');
  });

  it.each([
    [404, '<html><body>404 Not Found</body></html>'],
    [404, ''],
    [404, { message: 'route not found' }],
    [400, { detail: 'Invalid pidx.' }],
    [400, { pidx: ['This field is required.'] }],
    [410, { detail: 'Gone' }],
  ])('HTTP %i %p is outcome unknown, never not_found', (status, body) => {
    expect(classifyLookup(raw(status, body))).toMatchObject({ kind: 'unavailable', reason: 'bad_response' });
  });

  it('reads an unusable total_amount as null, for the flow to hold', () => {
    expect(classifyLookup(raw(200, lookupBody('Completed', { total_amount: '1000' })))).toMatchObject({
      status: 'completed',
      totalAmount: null,
    });
    expect(classifyLookup(raw(200, lookupBody('Completed', { total_amount: undefined })))).toMatchObject({
      status: 'completed',
      totalAmount: null,
    });
  });
});

describe('parseObject', () => {
  it('parses objects only', () => {
    expect(parseObject('{"a":1}')).toEqual({ a: 1 });
    expect(parseObject('null')).toBeNull();
    expect(parseObject('[]')).toBeNull();
    expect(parseObject('"x"')).toBeNull();
    expect(parseObject('{')).toBeNull();
  });
});
