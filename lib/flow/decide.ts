// Pure decisions: a classified Khalti answer in, what it means for one payment out. No I/O, no logging:
// the caller logs what a decision's `why` says.

import type { StatusOutcome, VerifyOutcome } from '../khalti/classify';
import type { LookupOutcome } from '../khalti/classify-epayment';

/** Why an outcome is unknown, for the log line the caller writes. */
export type UnknownWhy =
  /** Khalti could not be asked, or gave an answer we cannot read. */
  | { kind: 'unavailable'; reason: string; httpStatus?: number }
  /** Khalti refused our secret key: a configuration error, not the customer's. */
  | { kind: 'auth_failed'; httpStatus: number; detail: string | null }
  /** Lookup said Completed (the money is captured) without a whole-number `total_amount`. */
  | { kind: 'unreadable_amount' }
  /** The status API still said Confirmed (paid, not verified) after verify was called again. */
  | { kind: 'still_confirmed' };

/** What Khalti's answers add up to, for one claimed payment. */
export type Decision =
  | { kind: 'confirmed'; transactionId: string | null; amount: number; khalti: unknown }
  | { kind: 'declined'; code: 'payment_rejected' | 'payment_not_completed'; khalti: unknown }
  | { kind: 'unknown'; timedOut: boolean; why: UnknownWhy }
  /** ePayment not settled yet (Pending, Initiated, an unknown status): keep the record, ask again later. */
  | { kind: 'hold'; khalti: unknown };

function authFailed(httpStatus: number, detail: string | null): Decision {
  return { kind: 'unknown', timedOut: false, why: { kind: 'auth_failed', httpStatus, detail } };
}

/**
 * Verify's answer. `ask_status` means verify gave no usable answer (a timeout, a 5xx, an odd body, a
 * state other than Completed): verify moves money, so the read-only status API must decide.
 */
export function decideVerify(outcome: VerifyOutcome): Decision | { kind: 'ask_status'; timedOut: boolean } {
  switch (outcome.kind) {
    case 'completed':
      return { kind: 'confirmed', transactionId: outcome.transactionId, amount: outcome.amount, khalti: outcome.body };
    case 'not_completed':
      return { kind: 'declined', code: 'payment_not_completed', khalti: outcome.body };
    case 'rejected':
      return { kind: 'declined', code: 'payment_rejected', khalti: outcome.body };
    case 'auth_failed':
      return authFailed(outcome.httpStatus, outcome.detail);
    case 'unavailable':
      return { kind: 'ask_status', timedOut: outcome.reason === 'timeout' };
  }
}

/**
 * The status API's answer, for a payment of `paidAmount` paisa. `verify_again` (state Confirmed: paid, not
 * yet verified) means call verify once more. `Complete` confirms without a transaction id.
 */
export function decideStatus(outcome: StatusOutcome, paidAmount: number): Decision | { kind: 'verify_again' } {
  if (outcome.kind === 'auth_failed') return authFailed(outcome.httpStatus, outcome.detail);
  if (outcome.kind === 'unavailable') {
    const why: UnknownWhy = {
      kind: 'unavailable',
      reason: outcome.reason,
      ...(outcome.httpStatus === undefined ? {} : { httpStatus: outcome.httpStatus }),
    };
    return { kind: 'unknown', timedOut: outcome.reason === 'timeout', why };
  }
  switch (outcome.state) {
    case 'Complete':
      return { kind: 'confirmed', transactionId: null, amount: paidAmount, khalti: outcome.body };
    case 'Error':
      return { kind: 'declined', code: 'payment_rejected', khalti: outcome.body };
    case 'Confirmed':
      return { kind: 'verify_again' };
    default:
      return { kind: 'declined', code: 'payment_not_completed', khalti: outcome.body };
  }
}

/**
 * Lookup's answer for an ePayment: Completed (not refunded, with a whole-number amount, compared later
 * with the price) confirms; Pending, Initiated and unknown statuses hold; Expired, User canceled and the
 * refunded ones decline; a pidx Khalti does not know (its JSON "Not found.") is rejected; anything else
 * is unknown. A Completed lookup is never read as a "no": the money is captured.
 */
export function decideLookup(outcome: LookupOutcome): Decision {
  switch (outcome.kind) {
    case 'auth_failed':
      return authFailed(outcome.httpStatus, outcome.detail);
    case 'unavailable': {
      const why: UnknownWhy = {
        kind: 'unavailable',
        reason: outcome.reason,
        ...(outcome.httpStatus === undefined ? {} : { httpStatus: outcome.httpStatus }),
      };
      return { kind: 'unknown', timedOut: outcome.reason === 'timeout', why };
    }
    case 'not_found':
      return { kind: 'declined', code: 'payment_rejected', khalti: outcome.body };
    case 'status':
      switch (outcome.status) {
        case 'completed':
          if (outcome.refunded) return { kind: 'declined', code: 'payment_not_completed', khalti: outcome.body };
          if (outcome.totalAmount === null) return { kind: 'unknown', timedOut: false, why: { kind: 'unreadable_amount' } };
          return { kind: 'confirmed', transactionId: outcome.transactionId, amount: outcome.totalAmount, khalti: outcome.body };
        case 'pending':
        case 'initiated':
        case 'unknown':
          return { kind: 'hold', khalti: outcome.body };
        default:
          return { kind: 'declined', code: 'payment_not_completed', khalti: outcome.body };
      }
  }
}
