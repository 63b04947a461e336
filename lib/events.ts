// The package's events, on Node's diagnostics_channel: one message per finished verification attempt,
// per call to Khalti, per refusal under load and per reconcile() run. A message is built only when
// someone subscribes (`hasSubscribers`), so with no subscriber the cost is one property read. No
// message holds the secret key or a whole token: keys are masked as log lines mask them.

import { channel } from 'node:diagnostics_channel';
import type { ReconcileSummary } from './types';

export const PAYMENT_CHANNEL = 'khalti-express:payment';
export const KHALTI_CHANNEL = 'khalti-express:khalti';
export const OVERLOADED_CHANNEL = 'khalti-express:overloaded';
export const RECONCILE_CHANNEL = 'khalti-express:reconcile';

/** A finished verification attempt (widget or ePayment, from a request or from `reconcile()`). */
export interface PaymentEvent {
  flow: 'widget' | 'epayment';
  outcome: 'verified' | 'replayed' | 'failed';
  /** The contract's error code, on a failure. */
  code?: string;
  orderId: string | null;
  /** The token or pidx, masked (first 4 characters and `…`). */
  key: string;
  /** Paisa, when known. */
  amount: number | null;
  transactionId?: string;
  durationMs: number;
  source: 'request' | 'reconcile';
}

export type KhaltiEndpoint = 'verify' | 'status' | 'initiate' | 'lookup' | 'refund';

/** One HTTP call to Khalti (a retried read is one message per try). */
export interface KhaltiCallEvent {
  endpoint: KhaltiEndpoint;
  /** Khalti's HTTP status, when an answer came. */
  httpStatus?: number;
  /** The client's classification of the answer: `completed`, `not_found`, `unavailable`, … */
  outcome: string;
  /** For `unavailable`: `timeout`, `network`, `server_error` or `bad_response`. */
  reason?: string;
  durationMs: number;
}

/** A verification refused under load (`503 overloaded`). */
export interface OverloadedEvent {
  retryAfter: number;
}

/** A `reconcile()` run. */
export interface ReconcileEvent {
  summary: ReconcileSummary;
  durationMs: number;
}

const payment = channel(PAYMENT_CHANNEL);
const khalti = channel(KHALTI_CHANNEL);
const overloaded = channel(OVERLOADED_CHANNEL);
const reconciled = channel(RECONCILE_CHANNEL);

export function publishPayment(make: () => PaymentEvent): void {
  if (payment.hasSubscribers) payment.publish(make());
}

export function publishKhaltiCall(make: () => KhaltiCallEvent): void {
  if (khalti.hasSubscribers) khalti.publish(make());
}

export function publishOverloaded(retryAfter: number): void {
  if (overloaded.hasSubscribers) overloaded.publish({ retryAfter } satisfies OverloadedEvent);
}

export function publishReconcile(make: () => ReconcileEvent): void {
  if (reconciled.hasSubscribers) reconciled.publish(make());
}
