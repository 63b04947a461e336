// Classification of Khalti's bodies: pure, fail-closed, amounts left for the flow to compare.
import { classifyStatus, classifyVerify, parseObject } from '../lib/khalti/classify';
import { INVALID_KEY, MISSING_KEY, STATUS_BODIES, verifySuccess } from './fixtures/khalti';

const raw = (status: number, body: unknown) => ({ status, text: typeof body === 'string' ? body : JSON.stringify(body) });

describe('classifyVerify', () => {
  it('accepts only a 200 Completed, unrefunded record with idx', () => {
    expect(classifyVerify(raw(200, verifySuccess()))).toMatchObject({ kind: 'completed', transactionId: '8xmeJnNXfoVjCvGcZiiGe7', amount: 1000 });
  });

  it.each([
    ['Pending', { state: { name: 'Pending' } }],
    ['Initiated', { state: { name: 'Initiated' } }],
    ['completed in lower case', { state: { name: 'completed' } }],
    ['refunded', { refunded: true }],
  ])('not completed: %s', (_name, overrides) => {
    expect(classifyVerify(raw(200, verifySuccess(overrides))).kind).toBe('not_completed');
  });

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
    expect(classifyVerify(raw(401, MISSING_KEY))).toEqual({ kind: 'auth_failed', httpStatus: 401, detail: 'Authentication credentials were not provided.' });
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

describe('parseObject', () => {
  it('parses objects only', () => {
    expect(parseObject('{"a":1}')).toEqual({ a: 1 });
    expect(parseObject('null')).toBeNull();
    expect(parseObject('[]')).toBeNull();
    expect(parseObject('"x"')).toBeNull();
    expect(parseObject('{')).toBeNull();
  });
});
