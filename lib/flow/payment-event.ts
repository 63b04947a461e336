// A finished verification attempt as a `khalti-express:payment` message (see events.ts).

import type { PaymentEvent } from '../events';
import type { AttemptEnd } from '../tracing';
import { parseKey } from '../ledger/keys';
import { maskToken } from '../log';
import type { SuccessBody } from '../types';
import { Failure, type Step } from './result';

export function paymentEvent(key: string, step: Step<SuccessBody>, durationMs: number, source: PaymentEvent['source']): PaymentEvent {
  const parsed = parseKey(key);
  const flow = parsed.kind === 'pidx' ? 'epayment' : 'widget';
  const masked = maskToken(parsed.kind === 'pidx' ? parsed.pidx : key);
  if (step instanceof Failure) {
    const { orderId, amount } = step.report;
    return {
      flow,
      outcome: 'failed',
      code: step.error.code,
      orderId: orderId ?? null,
      key: masked,
      amount: amount ?? null,
      durationMs,
      source,
    };
  }
  return {
    flow,
    outcome: step.replayed ? 'replayed' : 'verified',
    orderId: step.orderId,
    key: masked,
    amount: step.amount,
    ...(step.transactionId ? { transactionId: step.transactionId } : {}),
    durationMs,
    source,
  };
}

/** How an attempt's span ends: its flow (once a payment was named), outcome, code and order. */
export function attemptEnd(key: string | undefined, step: Step<SuccessBody>): AttemptEnd {
  const flow = key === undefined ? undefined : parseKey(key).kind === 'pidx' ? 'epayment' : 'widget';
  if (step instanceof Failure)
    return { ...(flow ? { flow } : {}), outcome: 'failed', code: step.error.code, orderId: step.report.orderId ?? null };
  return { ...(flow ? { flow } : {}), outcome: step.replayed ? 'replayed' : 'verified', orderId: step.orderId };
}
