// The sandbox's payment book: Khalti's payment lifecycle and test credentials, without any HTTP.

import { randomBytes, randomInt } from 'node:crypto';
import { maskMobile, nepalTime } from './khalti-format';

/** Payment states as Khalti's transaction records name them. */
export type SandboxPaymentState = 'Initiated' | 'Confirmed' | 'Completed' | 'Failed' | 'Refunded' | 'Partially refunded';

export interface SandboxPayment {
  idx: string;
  token: string;
  /** Paisa. */
  amount: number;
  state: SandboxPaymentState;
  mobile: string;
  productIdentity: string;
  productName: string;
  productUrl: string;
  /** `merchant_*` keys given at initiate, echoed by confirm. */
  merchantExtras: Record<string, unknown>;
  createdOn: string;
  /** How many verify calls moved or re-read this payment. */
  verifyCalls: number;
  /** Paisa refunded so far (the sandbox's refund API). */
  refundedAmount: number;
}

/** Khalti's published test wallet credentials. */
export const TEST_MOBILES: readonly string[] = ['9800000000', '9800000001', '9800000002', '9800000003', '9800000004', '9800000005'];
export const TEST_MPIN = '1111';
export const TEST_OTP = '987654';
/** Wrong PINs allowed per mobile before it is locked. */
export const PIN_TRIES = 3;

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A Khalti-looking id: 22 alphanumerics. */
export function khaltiId(): string {
  return Array.from({ length: 22 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');
}

/** A key in Khalti's format: `<prefix>_<32 hex>`, made fresh so no real-looking key is ever committed. */
export function khaltiKey(prefix: 'test_secret_key' | 'test_public_key'): string {
  return `${prefix}_${randomBytes(16).toString('hex')}`;
}

export interface NewPayment {
  amount: number;
  /** The token; a fresh Khalti-looking one unless given. */
  token?: string;
  state?: SandboxPaymentState;
  mobile?: string;
  productIdentity?: string;
  productName?: string;
  productUrl?: string;
  merchantExtras?: Record<string, unknown>;
}

export class PaymentBook {
  readonly #byToken = new Map<string, SandboxPayment>();
  readonly #pinTries = new Map<string, number>();

  create(input: NewPayment): SandboxPayment {
    if (input.token !== undefined && this.#byToken.has(input.token)) throw new Error(`pay(): token ${input.token} already exists`);
    const payment: SandboxPayment = {
      idx: khaltiId(),
      token: input.token ?? khaltiId(),
      amount: input.amount,
      state: input.state ?? 'Confirmed',
      mobile: input.mobile ?? TEST_MOBILES[0]!,
      productIdentity: input.productIdentity ?? 'sandbox-product',
      productName: input.productName ?? 'Sandbox product',
      productUrl: input.productUrl ?? 'http://localhost/',
      merchantExtras: input.merchantExtras ?? {},
      createdOn: nepalTime(Date.now(), 'us'),
      verifyCalls: 0,
      refundedAmount: 0,
    };
    this.#byToken.set(payment.token, payment);
    return payment;
  }

  get(token: string): SandboxPayment | undefined {
    return this.#byToken.get(token);
  }

  /** The payment whose transaction id (verify's `idx`) is `idx`. */
  byIdx(idx: string): SandboxPayment | undefined {
    for (const payment of this.#byToken.values()) if (payment.idx === idx) return payment;
    return undefined;
  }

  tokensIn(state: SandboxPaymentState): string[] {
    return [...this.#byToken.values()].filter((payment) => payment.state === state).map((payment) => payment.token);
  }

  /** Check a wallet login. `ok`, or the tries left for that mobile (0 = locked). */
  checkPin(mobile: string, pin: string): { ok: true } | { ok: false; triesRemaining: number } {
    const left = this.#pinTries.get(mobile) ?? PIN_TRIES;
    if (left > 0 && TEST_MOBILES.includes(mobile) && pin === TEST_MPIN) {
      this.#pinTries.delete(mobile);
      return { ok: true };
    }
    const remaining = Math.max(0, left - 1);
    this.#pinTries.set(mobile, remaining);
    return { ok: false, triesRemaining: remaining };
  }
}

/** The transaction record `POST /api/v2/payment/verify/` answers, as Khalti documents it. */
export function transactionRecord(payment: SandboxPayment, reportedAmount = payment.amount): Record<string, unknown> {
  const refunded = payment.state === 'Refunded' || payment.state === 'Partially refunded';
  return {
    idx: payment.idx,
    type: { idx: 'e476BL6jt9kgagEmsakyTL', name: 'Wallet payment' },
    state: { idx: 'DhvMj9hdRufLqkP8ZY4d8g', name: refunded ? 'Completed' : payment.state, template: templateOf(payment.state) },
    amount: reportedAmount,
    fee_amount: Math.round(reportedAmount * 0.03),
    refunded,
    created_on: payment.createdOn,
    ebanker: null,
    user: { idx: 'cCaPkRPQGn5D8StkiqqMJg', name: 'Test User', mobile: maskMobile(payment.mobile) },
    merchant: { idx: 'UM75Gm2gWmZvA4TPwkwZye', name: 'Sandbox Merchant', mobile: 'testmerchant@khalti.com' },
  };
}

function templateOf(state: SandboxPaymentState): string {
  return state === 'Completed' || state === 'Refunded' || state === 'Partially refunded' ? 'is complete' : `is ${state.toLowerCase()}`;
}

/** The body `GET /api/v2/payment/status/` answers for a payment's state (Khalti's typos kept). */
export function statusBody(payment: SandboxPayment | undefined): { httpStatus: number; body: Record<string, unknown> } {
  switch (payment?.state) {
    case 'Completed':
      return { httpStatus: 200, body: { status: true, detail: 'Transaction complete.', state: 'Complete' } };
    case 'Confirmed':
      return { httpStatus: 200, body: { status: true, detail: 'Transaciton not verified.', state: 'Confirmed' } };
    case 'Initiated':
      return { httpStatus: 200, body: { status: true, detail: 'Transaciton initiated.', state: 'Initiated' } };
    case 'Failed':
      return { httpStatus: 200, body: { status: false, detail: 'Transaction failed.', state: 'Failed' } };
    case 'Refunded':
      return { httpStatus: 200, body: { status: false, detail: 'Transaciton refunded.', state: 'Refunded' } };
    case 'Partially refunded':
      return { httpStatus: 200, body: { status: false, detail: 'Transaction partially refunded.', state: 'Partially refunded' } };
    default:
      return { httpStatus: 404, body: { status: false, state: 'Error', detail: 'Transaction not found' } };
  }
}
