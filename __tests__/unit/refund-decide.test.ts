// Refund decisions, pure: how Khalti's refund answers are classified (only a readable 200 is "made", a
// readable 4xx "refused", anything else "unknown"), and how a refund of unknown outcome is resolved
// from Khalti's state without ever posting again.
import { classifyRefund, messagesOf } from '../../lib/khalti/classify-refund';
import type { StatusOutcome } from '../../lib/khalti/classify';
import type { LookupOutcome } from '../../lib/khalti/classify-epayment';
import { decideRefundResolution, refundViewOfLookup, refundViewOfStatus, type RefundView } from '../../lib/flow/refund-decide';
import type { PaymentRecord } from '../../lib/ledger/store';
import { INVALID_KEY, MISSING_KEY } from '../fixtures/khalti';

const raw = (status: number, body: unknown) => ({ status, text: typeof body === 'string' ? body : JSON.stringify(body) });

describe('classifyRefund', () => {
  it.each([
    ['the documented success', raw(200, { detail: 'Transaction refund successful.' }), 'refunded'],
    ['a 200 with another JSON body', raw(200, { ok: true }), 'refunded'],
    ['a 400 field error', raw(400, { amount: ['Refund amount exceeds the refundable amount.'] }), 'rejected'],
    ['a 404 not found', raw(404, { detail: 'Not found.' }), 'rejected'],
    ['a 401 missing key', raw(401, MISSING_KEY), 'auth_failed'],
    ['a 401 invalid key', raw(401, INVALID_KEY), 'auth_failed'],
    ['a 500', raw(500, { detail: 'Server error' }), 'unavailable'],
    ['a 503 HTML page', raw(503, '<html>busy</html>'), 'unavailable'],
    ['a 200 HTML page (a proxy)', raw(200, '<html>ok</html>'), 'unavailable'],
    ['a 200 JSON array', raw(200, [1]), 'unavailable'],
    ['a 200 empty body', raw(200, ''), 'unavailable'],
    ['a 400 HTML page', raw(400, '<html>bad</html>'), 'unavailable'],
    ['a 302', raw(302, { detail: 'moved' }), 'unavailable'],
    ['a 204', raw(204, {}), 'unavailable'],
  ])('%s → %s', (_name, response, kind) => {
    expect(classifyRefund(response).kind).toBe(kind);
  });

  it('keeps Khalti’s words for a refusal, short, without its bookkeeping fields', () => {
    const outcome = classifyRefund(raw(400, { detail: 'Transaction is not refundable.', error_key: 'validation_error', status_code: 400 }));
    expect(outcome).toMatchObject({ kind: 'rejected', httpStatus: 400, messages: ['Transaction is not refundable.'] });
    expect(messagesOf({ amount: ['too big', 'really'], mobile: 'bad', n: 5, detail: '' })).toEqual([
      'amount: too big',
      'amount: really',
      'mobile: bad',
    ]);
    const long = messagesOf({ detail: 'x'.repeat(1000), a: ['1', '2', '3', '4', '5', '6'] });
    expect(long).toHaveLength(5);
    expect(long[0]).toHaveLength(200);
  });
});

describe('refund views of Khalti’s state', () => {
  const status = (state: string): StatusOutcome => ({ kind: 'status', state, body: {} }) as StatusOutcome;
  const looked = (lookupStatus: string, refunded = false): LookupOutcome =>
    ({ kind: 'status', status: lookupStatus, totalAmount: 1000, transactionId: 't', refunded, body: {} }) as LookupOutcome;

  it.each([
    [status('Complete'), 'none'],
    [status('Partially refunded'), 'partial'],
    [status('Refunded'), 'full'],
    [status('Confirmed'), 'unknown'],
    [status('Initiated'), 'unknown'],
    [{ kind: 'unavailable', reason: 'timeout' } as StatusOutcome, 'unknown'],
    [{ kind: 'auth_failed', httpStatus: 401, detail: null } as StatusOutcome, 'unknown'],
  ])('status %j → %s', (outcome, view) => {
    expect(refundViewOfStatus(outcome)).toBe(view);
  });

  it.each([
    [looked('completed'), 'none'],
    [looked('completed', true), 'unknown'],
    [looked('partially_refunded', true), 'partial'],
    [looked('refunded', true), 'full'],
    [looked('pending'), 'unknown'],
    [{ kind: 'not_found', httpStatus: 404, body: null } as LookupOutcome, 'unknown'],
    [{ kind: 'unavailable', reason: 'server_error', httpStatus: 503 } as LookupOutcome, 'unknown'],
  ])('lookup %j → %s', (outcome, view) => {
    expect(refundViewOfLookup(outcome)).toBe(view);
  });
});

describe('decideRefundResolution', () => {
  const SETTLE = 60_000;
  const ASKED = 1_000_000;
  function pending(refundedTotal: number, amount: number): PaymentRecord {
    return {
      token: 'tok',
      orderId: 'A-17',
      amount: 1000,
      state: 'fulfilled',
      owner: null,
      leaseUntil: 0,
      transactionId: 'idx',
      khalti: null,
      response: null,
      failureCode: null,
      refundedTotal,
      refund: { id: 'r', amount, mobile: null, owner: 'resolver', leaseUntil: ASKED + 10, requestedAt: ASKED },
      refunds: [],
      createdAt: 0,
      updatedAt: 0,
    };
  }
  const late = ASKED + SETTLE;
  const early = ASKED + SETTLE - 1;

  // [case, refunded before, this refund, Khalti's view, now, resolution kind, ambiguous (for a hold)]
  it.each<[string, number, number, RefundView, number, string, boolean | null]>([
    ['first refund, whole payment, Khalti shows it full', 0, 1000, 'full', early, 'refunded', null],
    ['first refund, part, Khalti shows it partial', 0, 300, 'partial', early, 'refunded', null],
    ['first refund, Khalti shows none, settled', 0, 300, 'none', late, 'not_refunded', null],
    ['first refund, Khalti shows none, too soon', 0, 300, 'none', early, 'hold', false],
    ['first refund, part, Khalti shows it full: more than we know of', 0, 300, 'full', late, 'hold', true],
    ['first refund, whole, Khalti shows partial: not made, settled', 0, 1000, 'partial', late, 'not_refunded', null],
    ['first refund, whole, Khalti shows partial, too soon', 0, 1000, 'partial', early, 'hold', false],
    ['the refund emptying the payment, Khalti shows full', 300, 700, 'full', early, 'refunded', null],
    ['the refund emptying the payment, Khalti still partial, settled', 300, 700, 'partial', late, 'not_refunded', null],
    ['a middle refund, Khalti shows partial either way', 300, 200, 'partial', late, 'hold', true],
    ['a middle refund, Khalti shows full', 300, 200, 'full', late, 'hold', true],
    ['after a refund, Khalti shows none', 300, 200, 'none', late, 'hold', true],
    ['Khalti could not be read', 0, 300, 'unknown', late, 'hold', false],
  ])('%s', (_name, before, amount, view, now, kind, isAmbiguous) => {
    const resolution = decideRefundResolution(pending(before, amount), view, now, SETTLE);
    expect(resolution.kind).toBe(kind);
    if (resolution.kind === 'hold') expect(resolution.ambiguous).toBe(isAmbiguous);
  });
});
