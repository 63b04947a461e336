// The flow's pure decisions, one table per Khalti endpoint: a classified answer in, a decision out. No HTTP.
import { decideLookup, decideStatus, decideVerify } from '../../lib/flow/decide';
import type { StatusOutcome, VerifyOutcome } from '../../lib/khalti/classify';
import type { LookupOutcome } from '../../lib/khalti/classify-epayment';

const body = { any: 'body' };

describe('decideVerify', () => {
  it.each<[string, VerifyOutcome, object]>([
    [
      'completed',
      { kind: 'completed', transactionId: 'idx', amount: 1000, body },
      { kind: 'confirmed', transactionId: 'idx', amount: 1000, khalti: body },
    ],
    [
      'refunded',
      { kind: 'not_completed', state: 'Completed', refunded: true, body },
      { kind: 'declined', code: 'payment_not_completed', khalti: body },
    ],
    ['rejected', { kind: 'rejected', httpStatus: 400, body }, { kind: 'declined', code: 'payment_rejected', khalti: body }],
    [
      'our key refused',
      { kind: 'auth_failed', httpStatus: 401, detail: 'Invalid token.' },
      { kind: 'unknown', timedOut: false, why: { kind: 'auth_failed', httpStatus: 401, detail: 'Invalid token.' } },
    ],
    ['timed out', { kind: 'unavailable', reason: 'timeout' }, { kind: 'ask_status', timedOut: true }],
    ['5xx', { kind: 'unavailable', reason: 'server_error', httpStatus: 503 }, { kind: 'ask_status', timedOut: false }],
    [
      'odd body (or an unrecognised state)',
      { kind: 'unavailable', reason: 'bad_response', httpStatus: 200 },
      { kind: 'ask_status', timedOut: false },
    ],
  ])('%s', (_name, outcome, decision) => {
    expect(decideVerify(outcome)).toEqual(decision);
  });
});

describe('decideStatus', () => {
  const status = (state: string): StatusOutcome => ({ kind: 'status', state: state as never, body });
  it.each<[string, StatusOutcome, object]>([
    [
      'Complete: confirmed for the amount paid, without a transaction id',
      status('Complete'),
      { kind: 'confirmed', transactionId: null, amount: 1000, khalti: body },
    ],
    ['Confirmed: verify once more', status('Confirmed'), { kind: 'verify_again' }],
    ['Error (not found, or a wrong amount)', status('Error'), { kind: 'declined', code: 'payment_rejected', khalti: body }],
    ['Initiated', status('Initiated'), { kind: 'declined', code: 'payment_not_completed', khalti: body }],
    ['Failed', status('Failed'), { kind: 'declined', code: 'payment_not_completed', khalti: body }],
    ['Refunded', status('Refunded'), { kind: 'declined', code: 'payment_not_completed', khalti: body }],
    ['Partially refunded', status('Partially refunded'), { kind: 'declined', code: 'payment_not_completed', khalti: body }],
    [
      'our key refused',
      { kind: 'auth_failed', httpStatus: 403, detail: null },
      { kind: 'unknown', timedOut: false, why: { kind: 'auth_failed', httpStatus: 403, detail: null } },
    ],
    [
      'timed out',
      { kind: 'unavailable', reason: 'timeout' },
      { kind: 'unknown', timedOut: true, why: { kind: 'unavailable', reason: 'timeout' } },
    ],
    [
      '5xx',
      { kind: 'unavailable', reason: 'server_error', httpStatus: 502 },
      { kind: 'unknown', timedOut: false, why: { kind: 'unavailable', reason: 'server_error', httpStatus: 502 } },
    ],
  ])('%s', (_name, outcome, decision) => {
    expect(decideStatus(outcome, 1000)).toEqual(decision);
  });
});

describe('decideLookup', () => {
  const looked = (status: string, overrides: Partial<Extract<LookupOutcome, { kind: 'status' }>> = {}): LookupOutcome => ({
    kind: 'status',
    status: status as never,
    totalAmount: 1000,
    transactionId: status === 'completed' ? 'txn' : null,
    refunded: false,
    body,
    ...overrides,
  });
  it.each<[string, LookupOutcome, object]>([
    [
      'Completed: confirmed for lookup’s amount (compared with the price later)',
      looked('completed'),
      { kind: 'confirmed', transactionId: 'txn', amount: 1000, khalti: body },
    ],
    [
      'Completed, another amount: still confirmed (settle keeps it for a refund)',
      looked('completed', { totalAmount: 500 }),
      { kind: 'confirmed', transactionId: 'txn', amount: 500, khalti: body },
    ],
    [
      'Completed without a usable amount: unknown, never a "no"',
      looked('completed', { totalAmount: null }),
      { kind: 'unknown', timedOut: false, why: { kind: 'unreadable_amount' } },
    ],
    ['Completed but refunded', looked('completed', { refunded: true }), { kind: 'declined', code: 'payment_not_completed', khalti: body }],
    ['Pending', looked('pending'), { kind: 'hold', khalti: body }],
    ['Initiated', looked('initiated'), { kind: 'hold', khalti: body }],
    ['a status Khalti adds later', looked('unknown'), { kind: 'hold', khalti: body }],
    ['Expired', looked('expired'), { kind: 'declined', code: 'payment_not_completed', khalti: body }],
    ['User canceled', looked('user_canceled'), { kind: 'declined', code: 'payment_not_completed', khalti: body }],
    ['Refunded', looked('refunded'), { kind: 'declined', code: 'payment_not_completed', khalti: body }],
    ['Partially refunded', looked('partially_refunded'), { kind: 'declined', code: 'payment_not_completed', khalti: body }],
    ['Khalti’s JSON not-found', { kind: 'not_found', httpStatus: 404, body }, { kind: 'declined', code: 'payment_rejected', khalti: body }],
    [
      'our key refused',
      { kind: 'auth_failed', httpStatus: 401, detail: 'Invalid token.' },
      { kind: 'unknown', timedOut: false, why: { kind: 'auth_failed', httpStatus: 401, detail: 'Invalid token.' } },
    ],
    [
      'an HTML 404 (a proxy)',
      { kind: 'unavailable', reason: 'bad_response', httpStatus: 404 },
      { kind: 'unknown', timedOut: false, why: { kind: 'unavailable', reason: 'bad_response', httpStatus: 404 } },
    ],
    [
      'timed out',
      { kind: 'unavailable', reason: 'timeout' },
      { kind: 'unknown', timedOut: true, why: { kind: 'unavailable', reason: 'timeout' } },
    ],
  ])('%s', (_name, outcome, decision) => {
    expect(decideLookup(outcome)).toEqual(decision);
  });
});
