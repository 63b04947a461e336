// The public types of refunds (the rest are in types.ts, which re-exports these).

/** Which payment to refund: a widget payment by its token, an ePayment by its pidx. */
export type RefundKey = { token: string } | { pidx: string };

export interface RefundOptions {
  /** Paisa to refund. Defaults to everything not refunded yet. */
  amount?: number;
  /** The customer's Khalti ID, for a payment made from a bank (Khalti's `mobile`). Defaults to none. */
  mobile?: string;
}

/** What `refund()` resolves to once Khalti confirmed the refund. */
export interface RefundReceipt {
  ok: true;
  orderId: string;
  /** Paisa refunded by this call. */
  amount: number;
  /** Paisa refunded of this payment so far, this refund included. */
  refundedTotal: number;
  /** Paisa still refundable. */
  remaining: number;
  /** Khalti's transaction id the refund was made against. */
  transactionId: string;
}

/** What `onRefunded` receives. */
export interface RefundedPayment extends Omit<RefundReceipt, 'ok'> {
  key: RefundKey;
}

/** What an operator found in Khalti's merchant dashboard about a pending refund (`settleRefund`). */
export interface HandSettlement {
  /** The pending refund's id (the admin page and `khalti-ledger show --json` show it). */
  refundId: string;
  /** `refunded`: Khalti shows this refund made; `not_refunded`: Khalti shows it was not. */
  outcome: 'refunded' | 'not_refunded';
}

/** What `settleRefund()` resolves to. */
export interface HandSettled {
  ok: true;
  orderId: string;
  outcome: 'refunded' | 'not_refunded';
  /** Paisa refunded of this payment so far, after this settlement. */
  refundedTotal: number;
  remaining: number;
}
