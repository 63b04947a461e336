// reconcile(): re-drive what crashes left behind, deciding exactly as the request path does.

import { randomUUID } from 'node:crypto';
import { KhaltiError } from '../errors';
import { publishPayment, publishReconcile } from '../events';
import { keyFields, parseKey } from '../ledger/keys';
import type { PaymentRecord } from '../ledger/store';
import { describeError } from '../log';
import type { Pacer } from '../pacer';
import type { ReconcileOptions, ReconcileSummary } from '../types';
import { claimAndSettle } from './claim';
import type { FlowDeps } from './deps';
import { askExpectedAmount } from './price';
import { refundRecorded, resolvePendingRefund } from './refund';
import { attemptEnd, paymentEvent } from './payment-event';
import { Failure } from './result';

/** How many stale records `reconcile()` lists at a time. */
const BATCH = 100;

/**
 * Every record whose lease ended while `claimed` (Khalti's answer never recorded: ask Khalti, then finish
 * or release it) or `verified` (`onVerified` never finished: run it again). Records held by a live lease
 * are never touched. Initiate's order checks (`check:` keys) a crash left are released without Khalti.
 */
export async function reconcile<Req>(deps: FlowDeps<Req>, pacer: Pacer, options: ReconcileOptions = {}): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = { fulfilled: 0, released: 0, unsettled: 0, refunds: { resolved: 0, pending: 0, refunded: 0 } };
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const startedAt = Date.now();
  const seen = new Set<string>();
  // Batches, oldest first, until no stale record is left that this call has not tried: one that stays
  // unsettled is listed again (it is older), so each batch asks for that many more.
  while (seen.size < limit) {
    let batch: PaymentRecord[];
    try {
      batch = await deps.store.listStale(startedAt, seen.size + Math.min(BATCH, limit - seen.size));
    } catch (error) {
      deps.log('error', 'reconcile could not list stale records', { error: describeError(error) });
      throw new KhaltiError('internal_error');
    }
    const fresh = batch.filter((record) => !seen.has(record.token));
    if (fresh.length === 0) break;
    for (const record of fresh) {
      seen.add(record.token);
      await reconcileOne(deps, pacer, record, summary);
    }
  }
  const refundsSeen = await reconcileRefunds(deps, summary, startedAt);
  publishReconcile(() => ({ summary: structuredClone(summary), durationMs: Date.now() - startedAt }));
  if (seen.size + refundsSeen > 0) {
    const { refunds, ...counts } = summary;
    deps.log('info', 'reconcile finished', {
      ...counts,
      refundsResolved: refunds.resolved,
      refundsPending: refunds.pending,
      refunded: refunds.refunded,
    });
  }
  return summary;
}

async function reconcileOne<Req>(deps: FlowDeps<Req>, pacer: Pacer, record: PaymentRecord, summary: ReconcileSummary): Promise<void> {
  const key = parseKey(record.token);
  if (key.kind === 'check') {
    if (await releaseCheck(deps, record)) summary.released += 1;
    else summary.unsettled += 1;
    return;
  }
  // The same decision as the request path: on the order's price now, not the one the record was
  // claimed at. A `verified` record is already decided (paid), so it needs no price.
  const expected = record.state === 'verified' ? record.amount : await askExpectedAmount(deps.config, deps.log, record.orderId, undefined);
  if (expected instanceof KhaltiError) {
    summary.unsettled += 1;
    deps.log(
      'error',
      'reconcile could not price the order (expectedAmount(orderId, undefined) gave no price); the payment stays unsettled',
      {
        ...keyFields(record.token),
        orderId: record.orderId,
        code: expected.code,
      },
    );
    return;
  }
  const input = { key: record.token, orderId: record.orderId, amount: record.amount };
  const report = {
    ...(key.kind === 'pidx' ? { pidx: key.pidx } : { token: key.token }),
    orderId: record.orderId,
    amount: record.amount,
    expectedAmount: expected,
  };
  const started = performance.now();
  const settle = () => claimAndSettle(deps, pacer, input, expected, undefined, report);
  const result = deps.tracing ? await deps.tracing.attempt('reconcile', settle, (step) => attemptEnd(record.token, step)) : await settle();
  publishPayment(() => paymentEvent(record.token, result, performance.now() - started, 'reconcile'));
  if (!(result instanceof Failure)) {
    if (!result.replayed) summary.fulfilled += 1;
  } else if (
    (result.error.code === 'payment_rejected' || result.error.code === 'payment_not_completed') &&
    (await ended(deps, record.token))
  ) {
    summary.released += 1;
  } else {
    summary.unsettled += 1;
    deps.log('warn', 'reconcile could not settle a payment yet', {
      ...keyFields(record.token),
      orderId: record.orderId,
      code: result.error.code,
    });
  }
}

/**
 * An order check is no payment (initiate claims it to refuse a paid order, then releases it): one a crash
 * left is released, never sent to Khalti. Claiming it first makes the release safe against a live owner.
 */
async function releaseCheck<Req>(deps: FlowDeps<Req>, record: PaymentRecord): Promise<boolean> {
  const owner = randomUUID();
  try {
    const claim = await deps.store.claim({
      token: record.token,
      orderId: record.orderId,
      amount: record.amount,
      owner,
      now: Date.now(),
      leaseMs: deps.config.leaseMs,
      evenIfOrderPaid: true,
    });
    return claim.status === 'claimed' && (await deps.store.release(record.token, owner));
  } catch (error) {
    deps.log('error', 'reconcile could not release a stale order check', { ...keyFields(record.token), error: describeError(error) });
    return false;
  }
}

/** True when Khalti's "no" ended the record: released (a widget token) or declined (a pidx); a pending ePayment is neither. */
async function ended<Req>(deps: FlowDeps<Req>, key: string): Promise<boolean> {
  const record = await deps.store.get(key).catch(() => undefined);
  return record === null || record?.state === 'declined';
}

/**
 * Refunds: every pending refund whose lease ended is resolved from Khalti's state (never posted again);
 * with `refundUnfulfillable`, every unfulfillable payment no refund was tried for is refunded in full,
 * once (a refused or unknown one is never tried again by reconcile). Answers how many records it saw.
 */
async function reconcileRefunds<Req>(deps: FlowDeps<Req>, summary: ReconcileSummary, startedAt: number): Promise<number> {
  const seen = new Set<string>();
  const listed = async (list: () => Promise<PaymentRecord[]>): Promise<PaymentRecord[]> => {
    try {
      return (await list()).filter((record) => !seen.has(record.token));
    } catch (error) {
      deps.log('error', 'reconcile could not list refunds', { error: describeError(error) });
      throw new KhaltiError('internal_error');
    }
  };
  for (let batch = await listed(() => deps.store.listPendingRefunds(startedAt, seen.size + BATCH)); batch.length > 0;) {
    for (const record of batch) {
      seen.add(record.token);
      const outcome = await resolvePendingRefund(deps, record).catch((error: unknown) => {
        deps.log('error', 'reconcile could not resolve a pending refund', { ...keyFields(record.token), error: describeError(error) });
        return 'pending' as const;
      });
      summary.refunds[outcome] += 1;
    }
    batch = await listed(() => deps.store.listPendingRefunds(startedAt, seen.size + BATCH));
  }
  if (!deps.config.refundUnfulfillable) return seen.size;
  for (let batch = await listed(() => deps.store.listOwedRefunds(seen.size + BATCH)); batch.length > 0;) {
    for (const record of batch) {
      seen.add(record.token);
      try {
        await refundRecorded(deps, record.token, {});
        summary.refunds.refunded += 1;
      } catch (error) {
        const code = error instanceof KhaltiError ? error.code : 'internal_error';
        if (code === 'refund_unknown') summary.refunds.pending += 1;
        deps.log('error', 'reconcile could not refund an unfulfillable payment', {
          ...keyFields(record.token),
          orderId: record.orderId,
          code,
        });
      }
    }
    batch = await listed(() => deps.store.listOwedRefunds(seen.size + BATCH));
  }
  return seen.size;
}
