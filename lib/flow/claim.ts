// One admitted payment, end to end: claim its ledger record, ask Khalti (unless it is decided already),
// settle. Shared by the request path (verify.ts) and reconcile.ts, so both decide the same way.

import { randomUUID } from 'node:crypto';
import { keyFields, pidxOf } from '../ledger/keys';
import { describeError } from '../log';
import type { Pacer } from '../pacer';
import type { SuccessBody } from '../types';
import { askLookup, askWidget } from './ask';
import { attemptFailure, storedFailureCode, type Attempt, type PaymentInput } from './attempt';
import type { FlowDeps } from './deps';
import type { FailureReport, Step } from './result';
import { busy, fulfil, settle } from './settle';

/**
 * Claim `input.key` for its order and see the payment through: answer a final record as it is, fulfil a
 * verified one, else ask Khalti and settle. Compares Khalti's amount with `expected`, the order's price.
 * A store failure fails closed (`internal_error`, the lease ended). Never throws.
 */
export async function claimAndSettle<Req>(
  deps: FlowDeps<Req>,
  pacer: Pacer,
  input: PaymentInput,
  expected: number,
  req: Req | undefined,
  report: FailureReport,
): Promise<Step<SuccessBody>> {
  const { config, store, log } = deps;
  // Admitted work is paced (see Pacer): a flood's admissions, and Khalti's answers arriving together,
  // take one loop turn each, so cheap answers (refusals, other routes) are not stuck behind them.
  await pacer.turn();
  const now = Date.now();
  const attempt: Attempt<Req> = { ...input, expected, owner: randomUUID(), deadline: now + config.khaltiBudgetMs, req, report };
  try {
    const pidx = pidxOf(input.key);
    // An ePayment's money is captured on Khalti's page, not by our call: a pidx of an order paid with
    // another payment must still be looked up (and, if Khalti took it, kept for a refund).
    const claim = await store.claim({
      token: input.key,
      orderId: input.orderId,
      amount: input.amount,
      owner: attempt.owner,
      now,
      leaseMs: config.leaseMs,
      ...(pidx === null ? {} : { evenIfOrderPaid: true }),
    });
    switch (claim.status) {
      case 'fulfilled':
        return { ...(claim.record.response as SuccessBody), replayed: true };
      case 'unfulfillable':
      case 'declined':
        return attemptFailure(attempt, storedFailureCode(claim.record), { khalti: claim.record.khalti });
      case 'token_conflict':
        return attemptFailure(attempt, 'token_already_used');
      case 'order_conflict':
        return attemptFailure(attempt, 'order_already_paid');
      case 'busy':
        return busy(report);
      case 'claimed':
        break;
    }
    if (claim.record.state === 'verified') {
      const record = claim.record;
      return await fulfil(deps, { ...attempt, expected: record.amount }, { transactionId: record.transactionId, khalti: record.khalti });
    }
    const decision = pidx === null ? await askWidget(deps, attempt, claim.takenOver) : await askLookup(deps, attempt, pidx);
    // The claim's lease covers this turn: a crash now is re-driven by reconcile() like one during the call.
    await pacer.turn();
    return await settle(deps, attempt, decision);
  } catch (error) {
    log('error', 'the ledger store failed; failing closed', { ...keyFields(input.key), error: describeError(error) });
    await store.endLease(input.key, attempt.owner, Date.now()).catch(() => false);
    return attemptFailure(attempt, 'internal_error');
  }
}
