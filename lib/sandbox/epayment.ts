// The sandbox's ePayment (KPG-2) book: initiate validation, lookup bodies and return-URL parameters.

import { maskMobile, nepalTime } from './khalti-format';
import { khaltiId } from './payments';

/** Lookup statuses, spelled as Khalti spells them. */
export type EpaymentStatus = 'Initiated' | 'Pending' | 'Completed' | 'Refunded' | 'Partially Refunded' | 'Expired' | 'User canceled';

export interface SandboxEpayment {
  pidx: string;
  /** Paisa. */
  amount: number;
  purchaseOrderId: string;
  purchaseOrderName: string;
  returnUrl: string;
  websiteUrl: string;
  status: EpaymentStatus;
  transactionId: string | null;
  mobile: string | null;
  /** Epoch ms after which an unpaid payment is Expired. */
  expiresAt: number;
  /** Paisa refunded so far (the sandbox's refund API). */
  refundedAmount: number;
  createdAt: number;
}

/** How long a payment link lives, as Khalti's `expires_in`. */
export const EPAYMENT_EXPIRES_IN_S = 1800;

type FieldErrors = Record<string, string[]>;

function isUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Khalti's field errors for an initiate body, or `undefined` when it is acceptable. */
export function initiateErrors(body: Record<string, unknown>): FieldErrors | undefined {
  const errors: FieldErrors = {};
  for (const field of ['return_url', 'website_url', 'purchase_order_id', 'purchase_order_name']) {
    const value = body[field];
    if (value === undefined || value === null) errors[field] = ['This field is required.'];
    else if (String(value).trim() === '') errors[field] = ['This field may not be blank.'];
  }
  for (const field of ['return_url', 'website_url']) {
    if (!errors[field] && !isUrl(body[field])) errors[field] = ['Enter a valid URL.'];
  }
  const amount = body.amount;
  if (amount === undefined) errors.amount = ['This field is required.'];
  else if (!Number.isSafeInteger(typeof amount === 'string' && /^\d+$/.test(amount) ? Number(amount) : amount)) {
    errors.amount = ['A valid integer is required.'];
  } else if (Number(amount) < 1000) errors.amount = ['Amount should be greater than Rs. 10, that is 1000 paisa.'];
  const breakdown = body.amount_breakdown;
  if (breakdown !== undefined) {
    const parts = Array.isArray(breakdown) ? breakdown : [];
    const sum = parts.reduce((total: number, part: unknown) => total + Number((part as { amount?: unknown })?.amount ?? Number.NaN), 0);
    if (!Array.isArray(breakdown) || sum !== Number(amount)) errors.amount_breakdown = ['Amount breakdown must add up to the amount.'];
  }
  return Object.keys(errors).length > 0 ? errors : undefined;
}

export class EpaymentBook {
  readonly #byPidx = new Map<string, SandboxEpayment>();

  create(body: Record<string, unknown>, now = Date.now()): SandboxEpayment {
    const payment: SandboxEpayment = {
      pidx: khaltiId(),
      amount: Number(body.amount),
      purchaseOrderId: String(body.purchase_order_id),
      purchaseOrderName: String(body.purchase_order_name),
      returnUrl: String(body.return_url),
      websiteUrl: String(body.website_url),
      status: 'Initiated',
      transactionId: null,
      mobile: null,
      expiresAt: now + EPAYMENT_EXPIRES_IN_S * 1000,
      refundedAmount: 0,
      createdAt: now,
    };
    this.#byPidx.set(payment.pidx, payment);
    return payment;
  }

  /** The payment, with an unpaid one past its expiry turned Expired. */
  get(pidx: string, now = Date.now()): SandboxEpayment | undefined {
    const payment = this.#byPidx.get(pidx);
    if (payment && (payment.status === 'Initiated' || payment.status === 'Pending') && now > payment.expiresAt) payment.status = 'Expired';
    return payment;
  }

  /** The payment whose lookup `transaction_id` is `transactionId`. */
  byTransactionId(transactionId: string): SandboxEpayment | undefined {
    for (const payment of this.#byPidx.values()) if (payment.transactionId === transactionId) return payment;
    return undefined;
  }

  /** The customer paid on the hosted page. */
  complete(payment: SandboxEpayment, mobile: string): void {
    payment.status = 'Completed';
    payment.transactionId = khaltiId();
    payment.mobile = mobile;
  }
}

export function initiateBody(payment: SandboxEpayment, baseUrl: string): Record<string, unknown> {
  return {
    pidx: payment.pidx,
    payment_url: `${baseUrl}/epayment/?pidx=${payment.pidx}`,
    expires_at: nepalTime(payment.expiresAt),
    expires_in: EPAYMENT_EXPIRES_IN_S,
  };
}

/** The lookup answer: 200 with the status body, or 400 with the same body for Expired and User canceled. */
export function lookupReply(payment: SandboxEpayment | undefined): { httpStatus: number; body: Record<string, unknown> } {
  if (!payment) return { httpStatus: 404, body: { detail: 'Not found.', error_key: 'validation_error' } };
  const body = {
    pidx: payment.pidx,
    total_amount: payment.amount,
    status: payment.status,
    transaction_id: payment.transactionId,
    fee: payment.status === 'Completed' ? Math.round(payment.amount * 0.03) : 0,
    refunded: payment.status === 'Refunded' || payment.status === 'Partially Refunded',
  };
  return { httpStatus: payment.status === 'Expired' || payment.status === 'User canceled' ? 400 : 200, body };
}

/** Where Khalti sends the customer back: `return_url` with Khalti's query parameters. */
export function returnUrl(payment: SandboxEpayment): string {
  const url = new URL(payment.returnUrl);
  const completed = payment.status === 'Completed';
  const params: Record<string, string> = {
    pidx: payment.pidx,
    status: payment.status,
    transaction_id: payment.transactionId ?? '',
    tidx: payment.transactionId ?? '',
    txnId: payment.transactionId ?? '',
    amount: String(payment.amount),
    total_amount: String(payment.amount),
    mobile: completed && payment.mobile ? maskMobile(payment.mobile) : '',
    purchase_order_id: payment.purchaseOrderId,
    purchase_order_name: payment.purchaseOrderName,
  };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}
