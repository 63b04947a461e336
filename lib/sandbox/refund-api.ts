// Khalti's refund API: `POST /api/merchant-transaction/{transaction_id}/refund/` (no `/v2`), behind `Key`
// auth. Its success body is documented; its error bodies are not, so the ones here are our guesses
// (each marked), modelled on Khalti's other validation errors. The sandbox refunds always; Khalti's
// test host refunds only in live mode.

import type { SandboxContext } from './context';
import type { EpaymentStatus } from './epayment';
import { json, type Body, type Reply } from './http';
import type { SandboxPaymentState } from './payments';

export const REFUND_PATH = /^\/api\/merchant-transaction\/([^/]+)\/refund\/$/;

/** Documented. */
const REFUNDED = json(200, { detail: 'Transaction refund successful.' });
/** Our guess: Django REST framework's not-found body, as lookup answers for an unknown pidx. */
const UNKNOWN_TRANSACTION = json(404, { detail: 'Not found.' });
/** Our guess, for a payment that is not completed (or is refunded in full already). */
const NOT_REFUNDABLE = json(400, { detail: 'Transaction is not refundable.', error_key: 'validation_error' });

interface Refundable {
  amount: number;
  refundedAmount: number;
  completed: boolean;
  apply(refundedAmount: number): void;
}

/** The widget payment or ePayment behind a transaction id, as something that can be refunded. */
function refundable(context: SandboxContext, transactionId: string): Refundable | undefined {
  const widget = context.book.byIdx(transactionId);
  if (widget) {
    return {
      amount: widget.amount,
      refundedAmount: widget.refundedAmount,
      completed: widget.state === 'Completed' || widget.state === 'Partially refunded',
      apply(total) {
        widget.refundedAmount = total;
        widget.state = (total === widget.amount ? 'Refunded' : 'Partially refunded') satisfies SandboxPaymentState;
      },
    };
  }
  const epayment = context.epayments.byTransactionId(transactionId);
  if (epayment) {
    return {
      amount: epayment.amount,
      refundedAmount: epayment.refundedAmount,
      completed: epayment.status === 'Completed' || epayment.status === 'Partially Refunded',
      apply(total) {
        epayment.refundedAmount = total;
        epayment.status = (total === epayment.amount ? 'Refunded' : 'Partially Refunded') satisfies EpaymentStatus;
      },
    };
  }
  return undefined;
}

export function refund(context: SandboxContext, transactionId: string, body: Body | null): Reply {
  const payment = refundable(context, transactionId);
  if (!payment) return UNKNOWN_TRANSACTION;
  const remaining = payment.amount - payment.refundedAmount;
  if (!payment.completed || remaining <= 0) return NOT_REFUNDABLE;
  const asked = body?.amount;
  if (asked === undefined) {
    payment.apply(payment.amount);
    return REFUNDED;
  }
  const amount = typeof asked === 'number' ? asked : typeof asked === 'string' && /^\d+$/.test(asked) ? Number(asked) : Number.NaN;
  // Our guess: a field error, as Khalti words its other amount errors.
  if (!Number.isSafeInteger(amount) || amount <= 0)
    return json(400, { amount: ['A valid integer is required.'], error_key: 'validation_error' });
  if (amount > remaining) {
    // Our guess.
    return json(400, { amount: ['Refund amount exceeds the refundable amount.'], error_key: 'validation_error' });
  }
  payment.apply(payment.refundedAmount + amount);
  return REFUNDED;
}
