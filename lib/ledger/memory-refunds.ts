// MemoryStore's refund steps on one held record: decide and record an intent, settle it, end or take
// its lease. Each runs within one tick, so each is atomic within the process.

import { copy } from './memory-records';
import { decideRefund, settledRefund } from './rules';
import type { BeginRefundInput, BeginRefundResult, FinishRefundInput, PaymentRecord } from './store';

export function begin(record: PaymentRecord | null, input: BeginRefundInput): BeginRefundResult {
  const decision = decideRefund(record, input);
  if (decision.kind === 'answer')
    return decision.result.record ? { ...decision.result, record: copy(decision.result.record) } : decision.result;
  Object.assign(record!, { refund: decision.intent, updatedAt: input.now });
  return { status: 'begun', record: copy(record!) };
}

const holds = (record: PaymentRecord, refundId: string, owner: string) => record.refund?.id === refundId && record.refund.owner === owner;

/** Settle the intent `owner` holds; answers the paisa added to the refunded total, or `null` when not held. */
export function finish(record: PaymentRecord, refundId: string, owner: string, input: FinishRefundInput): number | null {
  if (!holds(record, refundId, owner)) return null;
  const before = record.refundedTotal;
  Object.assign(record, settledRefund(record, input.outcome, input.now), { updatedAt: input.now });
  return record.refundedTotal - before;
}

export function endLease(record: PaymentRecord, refundId: string, owner: string, now: number): boolean {
  if (!holds(record, refundId, owner)) return false;
  Object.assign(record, { refund: { ...record.refund!, owner: null, leaseUntil: 0 }, updatedAt: now });
  return true;
}

export function take(record: PaymentRecord, refundId: string, owner: string, now: number, leaseMs: number): boolean {
  if (record.refund?.id !== refundId || record.refund.leaseUntil > now) return false;
  Object.assign(record, { refund: { ...record.refund, owner, leaseUntil: now + leaseMs }, updatedAt: now });
  return true;
}
