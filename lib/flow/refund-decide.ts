// Pure decisions for refunds of unknown outcome: what Khalti's state says about one pending refund.
// Never "post again": a refund is resolved from what Khalti shows, or it stays pending.

import type { StatusOutcome } from '../khalti/classify';
import type { LookupOutcome } from '../khalti/classify-epayment';
import type { PaymentRecord } from '../ledger/store';

/** How much of a payment Khalti shows refunded: none, part of it, all of it, or we could not tell. */
export type RefundView = 'none' | 'partial' | 'full' | 'unknown';

/** The widget flow's status API, as a refund view. */
export function refundViewOfStatus(outcome: StatusOutcome): RefundView {
  if (outcome.kind !== 'status') return 'unknown';
  if (outcome.state === 'Refunded') return 'full';
  if (outcome.state === 'Partially refunded') return 'partial';
  return outcome.state === 'Complete' ? 'none' : 'unknown';
}

/** ePayment lookup, as a refund view. */
export function refundViewOfLookup(outcome: LookupOutcome): RefundView {
  if (outcome.kind !== 'status') return 'unknown';
  if (outcome.status === 'refunded') return 'full';
  if (outcome.status === 'partially_refunded') return 'partial';
  return outcome.status === 'completed' && !outcome.refunded ? 'none' : 'unknown';
}

export type RefundResolution =
  | { kind: 'refunded' }
  | { kind: 'not_refunded' }
  /** Keep it pending: `why` says what a person should know (logged). */
  | { kind: 'hold'; why: string; ambiguous: boolean };

/**
 * What Khalti's view means for `record`'s pending refund. Khalti shows only none/partial/full, so a
 * view is conclusive only where the refund alone could have changed it: the first refund (none →
 * partial or full), or the one that would empty the payment (partial → full). "Not refunded" is believed
 * only `settleMs` after the refund was asked, in case Khalti shows refunds late.
 */
export function decideRefundResolution(record: PaymentRecord, view: RefundView, now: number, settleMs: number): RefundResolution {
  const intent = record.refund!;
  const before = record.refundedTotal;
  const empties = before + intent.amount === record.amount;
  const settled = now - intent.requestedAt >= settleMs;
  const notRefunded: RefundResolution = settled
    ? { kind: 'not_refunded' }
    : { kind: 'hold', why: 'Khalti shows no such refund yet; asked again once refundSettleMs has passed', ambiguous: false };
  const ambiguous = (why: string): RefundResolution => ({ kind: 'hold', why, ambiguous: true });
  switch (view) {
    case 'unknown':
      return { kind: 'hold', why: 'Khalti gave no usable answer', ambiguous: false };
    case 'full':
      return empties ? { kind: 'refunded' } : ambiguous('Khalti shows the payment refunded in full, more than this ledger knows of');
    case 'partial':
      if (before === 0) return empties ? notRefunded : { kind: 'refunded' };
      return empties ? notRefunded : ambiguous('Khalti shows a partial refund either way: check the merchant dashboard');
    case 'none':
      return before === 0 ? notRefunded : ambiguous('Khalti shows no refund, but this ledger recorded one');
  }
}
