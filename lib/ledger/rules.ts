// The ledger's decision rules, shared by every store that can run them inside one atomic step.

import type { ClaimInput, ClaimResult, PaymentRecord } from './store';

/** States in which a token has paid its order. */
export const PAID_STATES: ReadonlySet<string> = new Set(['verified', 'fulfilled']);

/** States nothing changes any more: a claim answers them as they are. */
export const FINAL_STATES: ReadonlySet<string> = new Set(['fulfilled', 'unfulfillable', 'declined']);

/**
 * What a claim should do, given the token's record (if any) and the other records of the same order.
 * The caller runs this and the write it asks for inside one transaction (or one tick), so the
 * decision and the write are atomic together.
 * - `answer`: nothing to write; answer `result`.
 * - `insert`: write a new `claimed` record.
 * - `takeover`: give the existing record (expired lease) to `input.owner`.
 */
export type ClaimDecision = { kind: 'answer'; result: ClaimResult } | { kind: 'insert' } | { kind: 'takeover' };

export function decideClaim(existing: PaymentRecord | null, sameOrder: readonly PaymentRecord[], input: ClaimInput): ClaimDecision {
  if (existing) {
    if (existing.orderId !== input.orderId) return { kind: 'answer', result: { status: 'token_conflict', record: existing } };
    if (FINAL_STATES.has(existing.state)) {
      return { kind: 'answer', result: { status: existing.state as 'fulfilled' | 'unfulfillable' | 'declined', record: existing } };
    }
    if (existing.leaseUntil > input.now) return { kind: 'answer', result: { status: 'busy', record: existing } };
  }
  for (const other of sameOrder) {
    if (other.token === input.token) continue;
    if (PAID_STATES.has(other.state) && !input.evenIfOrderPaid)
      return { kind: 'answer', result: { status: 'order_conflict', record: other } };
    if (other.state === 'claimed' && other.leaseUntil > input.now) return { kind: 'answer', result: { status: 'busy', record: other } };
  }
  return existing ? { kind: 'takeover' } : { kind: 'insert' };
}

/** A new `claimed` record for `input`. */
export function newClaim(input: ClaimInput): PaymentRecord {
  return {
    token: input.token,
    orderId: input.orderId,
    amount: input.amount,
    state: 'claimed',
    owner: input.owner,
    leaseUntil: input.now + input.leaseMs,
    transactionId: null,
    khalti: null,
    response: null,
    failureCode: null,
    createdAt: input.now,
    updatedAt: input.now,
  };
}

/** `existing` as taken over by `input.owner`. */
export function takenOver(existing: PaymentRecord, input: ClaimInput): PaymentRecord {
  return { ...existing, owner: input.owner, leaseUntil: input.now + input.leaseMs, updatedAt: input.now };
}

/** Answer a claim decision whose write is done: `claimed`, with whether it was a takeover. */
export function claimed(record: PaymentRecord, decision: ClaimDecision): ClaimResult {
  return { status: 'claimed', record, takenOver: decision.kind === 'takeover' };
}
