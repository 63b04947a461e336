// The ledger's decision rules, shared by every store that can run them inside one atomic step.

import type { BeginRefundInput, BeginRefundResult, ClaimInput, ClaimResult, PaymentRecord, PendingRefund } from './store';

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
    refundedTotal: 0,
    refund: null,
    refunds: [],
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

/** States a refund can be made from: the payment was confirmed by Khalti and is settled. */
export const REFUNDABLE_STATES: ReadonlySet<string> = new Set(['fulfilled', 'unfulfillable']);

export type RefundDecision =
  { kind: 'answer'; result: Exclude<BeginRefundResult, { status: 'begun' }> } | { kind: 'begin'; intent: PendingRefund };

/** What `beginRefund` should do with `record`. Run inside the store's atomic step, like `decideClaim`. */
export function decideRefund(record: PaymentRecord | null, input: BeginRefundInput): RefundDecision {
  if (!record) return { kind: 'answer', result: { status: 'not_found', record: null } };
  if (!REFUNDABLE_STATES.has(record.state) || record.transactionId === null) {
    return { kind: 'answer', result: { status: 'not_refundable', record } };
  }
  if (record.refund !== null) return { kind: 'answer', result: { status: 'in_progress', record } };
  const left = record.amount - record.refundedTotal;
  const amount = input.amount ?? left;
  if (amount <= 0 || amount > left) return { kind: 'answer', result: { status: 'too_large', record } };
  return {
    kind: 'begin',
    intent: {
      id: input.id,
      amount,
      mobile: input.mobile,
      owner: input.owner,
      leaseUntil: input.now + input.leaseMs,
      requestedAt: input.now,
    },
  };
}

/** `record`'s refund fields once its pending refund settled with `outcome`. */
export function settledRefund(
  record: PaymentRecord,
  outcome: 'refunded' | 'rejected',
  now: number,
): Pick<PaymentRecord, 'refundedTotal' | 'refund' | 'refunds'> {
  const intent = record.refund!;
  return {
    refundedTotal: record.refundedTotal + (outcome === 'refunded' ? intent.amount : 0),
    refund: null,
    refunds: [...record.refunds, { id: intent.id, amount: intent.amount, outcome, at: now }],
  };
}

/** Whether `record` is owed a refund no one tried yet (for `listOwedRefunds`). */
export function owesRefund(record: PaymentRecord): boolean {
  return record.state === 'unfulfillable' && record.transactionId !== null && record.refund === null && record.refunds.length === 0;
}
