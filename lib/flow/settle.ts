// Settle: a decision → the ledger transitions it calls for → `onVerified` → the success body.

import { KhaltiError } from '../errors';
import { keyFields, pidxOf } from '../ledger/keys';
import { describeError } from '../log';
import type { SuccessBody, VerifiedPayment } from '../types';
import { attemptFailure, type Attempt } from './attempt';
import type { Decision } from './decide';
import type { FlowDeps } from './deps';
import { Failure, type Step } from './result';

/** Seconds a client should wait before retrying a request that found the payment busy. */
export const BUSY_RETRY_AFTER_S = 2;

type Payment = Pick<VerifiedPayment, 'transactionId' | 'khalti'>;

/** `verification_in_progress`: another attempt holds the payment right now. */
export function busy(report: Failure['report'] = {}): Failure {
  return new Failure(new KhaltiError('verification_in_progress', { retryAfter: BUSY_RETRY_AFTER_S }), report);
}

/** Record what `decision` means for the attempt's record, then fulfil a confirmed payment. */
export async function settle<Req>(deps: FlowDeps<Req>, attempt: Attempt<Req>, decision: Decision): Promise<Step<SuccessBody>> {
  const { store, log } = deps;
  const { key, owner } = attempt;
  switch (decision.kind) {
    case 'hold':
      await store.endLease(key, owner, Date.now());
      return attemptFailure(attempt, 'payment_not_completed', { khalti: decision.khalti });
    case 'unknown':
      await store.endLease(key, owner, Date.now());
      return attemptFailure(attempt, 'gateway_error', {}, { statusCode: decision.timedOut ? 504 : 502 });
    case 'declined':
      // A widget token Khalti refused is free again; a pidx stays as the proof this shop issued it.
      if (pidxOf(key) === null) await store.release(key, owner);
      else await store.markDeclined(key, owner, { failureCode: decision.code, khalti: decision.khalti, now: Date.now() });
      return attemptFailure(attempt, decision.code, { khalti: decision.khalti });
    case 'confirmed':
      break;
  }
  const verified = { transactionId: decision.transactionId, khalti: decision.khalti, now: Date.now() };
  const refund = { ...keyFields(key), orderId: attempt.orderId, transactionId: decision.transactionId };
  if (decision.amount !== attempt.expected) {
    log('error', 'Khalti confirmed a different amount than the order costs; recorded as unfulfillable (refund it)', refund);
    await store.markUnfulfillable(key, owner, { ...verified, failureCode: 'amount_mismatch' });
    return attemptFailure(attempt, 'amount_mismatch', { khalti: decision.khalti });
  }
  const marked = await store.markVerified(key, owner, verified);
  if (marked === 'order_conflict') {
    log('error', 'Khalti confirmed a payment for an order already paid with another token; recorded as unfulfillable (refund it)', refund);
    return attemptFailure(attempt, 'order_already_paid', { khalti: decision.khalti });
  }
  if (marked === 'not_owner') {
    log('warn', 'the claim lease expired during verification; another attempt now owns this token', keyFields(key));
    return busy();
  }
  return fulfil(deps, attempt, { transactionId: decision.transactionId, khalti: decision.khalti });
}

/**
 * Run `onVerified` for a verified payment, within `fulfilmentTimeoutMs`, and record its fulfilment. If it
 * throws, the record stays verified with its lease ended: the next attempt fulfils it.
 */
export async function fulfil<Req>(deps: FlowDeps<Req>, attempt: Attempt<Req>, payment: Payment): Promise<Step<SuccessBody>> {
  const { config, store, log } = deps;
  const { key, owner, orderId } = attempt;
  const pidx = pidxOf(key);
  const who = pidx === null ? { token: key } : { token: null, pidx };
  const hook = (async () => config.onVerified({ orderId, ...who, amount: attempt.expected, ...payment }, attempt.req))();
  let returned: unknown;
  try {
    returned = await settleWithin(hook, config.fulfilmentTimeoutMs);
  } catch (error) {
    log('error', 'onVerified threw; the payment stays verified and the next retry fulfils it', {
      ...keyFields(key),
      orderId,
      error: describeError(error),
    });
    await store.endLease(key, owner, Date.now());
    return attemptFailure(attempt, 'fulfilment_failed', { khalti: payment.khalti });
  }
  if (returned === TIMED_OUT) {
    // The slot is freed and the request answered; the record stays verified under this attempt's lease,
    // so nothing runs onVerified again while this call may still finish. If it does, its fulfilment is
    // recorded; if it fails or never ends, the lease runs out and a retry or reconcile() fulfils it.
    log('error', 'onVerified did not settle within fulfilmentTimeoutMs; answered fulfilment_failed, the payment stays verified', {
      ...keyFields(key),
      orderId,
      fulfilmentTimeoutMs: config.fulfilmentTimeoutMs,
    });
    hook
      .then(
        (late) => recordFulfilment(deps, attempt, payment, late),
        () => store.endLease(key, owner, Date.now()),
      )
      .catch(() => undefined);
    return attemptFailure(attempt, 'fulfilment_failed', { khalti: payment.khalti });
  }
  return recordFulfilment(deps, attempt, payment, returned);
}

/** Record fulfilment: the 200 body, with what `onVerified` returned as `data`. */
async function recordFulfilment<Req>(
  deps: FlowDeps<Req>,
  attempt: Attempt<Req>,
  payment: Payment,
  returned: unknown,
): Promise<SuccessBody> {
  const data = plainData(deps, returned);
  const pidx = pidxOf(attempt.key);
  const body: SuccessBody = {
    ok: true,
    orderId: attempt.orderId,
    ...(pidx === null ? {} : { pidx }),
    amount: attempt.expected,
    transactionId: payment.transactionId,
    replayed: false,
    ...(data === undefined ? {} : { data }),
  };
  if (!(await deps.store.markFulfilled(attempt.key, attempt.owner, body, Date.now()))) {
    deps.log('warn', 'the claim lease expired before fulfilment was recorded; onVerified may run again', keyFields(attempt.key));
  }
  return body;
}

/** `onVerified`'s return value as JSON data, when it is a plain object that serialises to a JSON object. */
function plainData<Req>(deps: FlowDeps<Req>, value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(JSON.stringify(value));
  } catch {
    deps.log('warn', 'onVerified returned an object that is not JSON; it is left out of the response');
    return undefined;
  }
  // A `toJSON` may turn the object into anything: only an object serialises to `data`.
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    deps.log('warn', 'onVerified returned an object that does not serialise to a JSON object; it is left out of the response');
    return undefined;
  }
  return json as Record<string, unknown>;
}

const TIMED_OUT = Symbol('timed out');

/** `promise`'s value, or `TIMED_OUT` when it has not settled within `ms`. */
async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
