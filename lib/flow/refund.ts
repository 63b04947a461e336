// Refunds through the ledger, exactly once: the intent is recorded before Khalti is asked, the outcome
// after; a refund POST is never sent twice for one intent, and one of unknown outcome is resolved from
// Khalti's state (lookup for ePayment, the status API for the widget flow), never by posting again.

import { randomUUID } from 'node:crypto';
import { KhaltiError, type KhaltiErrorInit, type RefundErrorCode } from '../errors';
import type { RefundOutcome } from '../khalti/classify-refund';
import { messagesOf } from '../khalti/classify-refund';
import { keyFields, parseKey, pidxKey, tokenKey } from '../ledger/keys';
import type { BeginRefundResult, PaymentRecord } from '../ledger/store';
import { describeError, scrubSecret } from '../log';
import { TOKEN_PATTERN } from '../request';
import type { RefundKey, RefundOptions, RefundReceipt } from '../types';
import type { FlowDeps } from './deps';
import { decideRefundResolution, refundViewOfLookup, refundViewOfStatus } from './refund-decide';

const MOBILE = /^9\d{9}$/;

const refundError = (code: RefundErrorCode | 'invalid_request', init?: KhaltiErrorInit) => new KhaltiError(code, init);

/** The ledger key for a refund key, or an `invalid_request` error. */
export function ledgerKeyOf(key: RefundKey): string {
  const value = key as Partial<Record<'token' | 'pidx', unknown>>;
  if (typeof value?.token === 'string' && TOKEN_PATTERN.test(value.token) && value.pidx === undefined) return tokenKey(value.token);
  if (typeof value?.pidx === 'string' && TOKEN_PATTERN.test(value.pidx) && value.token === undefined) return pidxKey(value.pidx);
  throw refundError('invalid_request', { message: 'refund() takes { token } or { pidx }.', details: ['key'] });
}

function checkOptions(options: RefundOptions): void {
  const { amount, mobile } = options ?? {};
  const details: string[] = [];
  if (amount !== undefined && !(Number.isSafeInteger(amount) && amount > 0)) details.push('amount');
  if (mobile !== undefined && !(typeof mobile === 'string' && MOBILE.test(mobile))) details.push('mobile');
  if (details.length > 0) {
    throw refundError('invalid_request', { message: 'amount must be a positive whole number of paisa; mobile a Khalti ID.', details });
  }
}

/** The public form of a ledger key. */
function publicKey(key: string): RefundKey {
  const parsed = parseKey(key);
  return parsed.kind === 'pidx' ? { pidx: parsed.pidx } : { token: key };
}

export function receipt(record: PaymentRecord, amount: number): RefundReceipt {
  const refundedTotal = record.refundedTotal + amount;
  return {
    ok: true,
    orderId: record.orderId,
    amount,
    refundedTotal,
    remaining: record.amount - refundedTotal,
    transactionId: record.transactionId!,
  };
}

const BEGIN_ERRORS: Record<Exclude<BeginRefundResult['status'], 'begun'>, RefundErrorCode> = {
  not_found: 'refund_not_allowed',
  not_refundable: 'refund_not_allowed',
  in_progress: 'refund_in_progress',
  too_large: 'refund_too_large',
};

/** `router.refund(key, options)`. */
export async function refund<Req>(deps: FlowDeps<Req>, key: RefundKey, options: RefundOptions = {}): Promise<RefundReceipt> {
  const ledgerKey = ledgerKeyOf(key);
  checkOptions(options);
  return refundRecorded(deps, ledgerKey, options);
}

/** A refund of the record under `ledgerKey`: intent, one POST, outcome. */
export async function refundRecorded<Req>(deps: FlowDeps<Req>, ledgerKey: string, options: RefundOptions): Promise<RefundReceipt> {
  const owner = randomUUID();
  const begun = await guard(deps, 'record a refund', ledgerKey, () =>
    deps.store.beginRefund(ledgerKey, {
      id: randomUUID(),
      amount: options.amount,
      mobile: options.mobile ?? null,
      owner,
      now: Date.now(),
      leaseMs: deps.config.leaseMs,
    }),
  );
  if (begun.status !== 'begun') throw refundError(BEGIN_ERRORS[begun.status]);
  const record = begun.record;
  const intent = record.refund!;
  // Khalti's full refund takes no body; a refund that is not the whole payment names its amount.
  const whole = record.refundedTotal === 0 && intent.amount === record.amount;
  const outcome: RefundOutcome = await deps.client
    .refund(
      record.transactionId!,
      { ...(whole ? {} : { amount: intent.amount }), ...(intent.mobile ? { mobile: intent.mobile } : {}) },
      { deadline: Date.now() + deps.config.timeoutMs },
    )
    .catch((error: unknown) => {
      deps.log('error', 'the Khalti client threw on a refund; its outcome is unknown', {
        ...keyFields(ledgerKey),
        error: describeError(error),
      });
      return { kind: 'unavailable', reason: 'network' } as const;
    });
  const fields = { ...keyFields(ledgerKey), orderId: record.orderId, amount: intent.amount };
  if (outcome.kind === 'refunded') {
    if (!(await settle(deps, record, owner, 'refunded'))) throw refundError('refund_unknown');
    deps.log('info', 'refund made', fields);
    const made = receipt(record, intent.amount);
    await tellRefunded(deps, ledgerKey, made);
    return made;
  }
  if (outcome.kind === 'rejected' || outcome.kind === 'auth_failed') {
    await settle(deps, record, owner, 'rejected');
    // Khalti's words go to the caller: never with the secret in them, whatever Khalti echoed.
    const details =
      outcome.kind === 'rejected'
        ? messagesOf(outcome.body).map((text) => scrubSecret(text, deps.config.secretKey))
        : ['Khalti refused our secret key (a configuration error)'];
    deps.log(outcome.kind === 'auth_failed' ? 'error' : 'warn', 'Khalti refused a refund', { ...fields, httpStatus: outcome.httpStatus });
    throw refundError('refund_rejected', { details });
  }
  await deps.store.endRefundLease(ledgerKey, intent.id, owner, Date.now()).catch(() => false);
  deps.log('error', 'refund outcome unknown; kept pending, to be resolved from Khalti’s state by reconcile()', {
    ...fields,
    reason: outcome.reason,
    httpStatus: outcome.httpStatus,
  });
  throw refundError('refund_unknown');
}

/** Settle `record`'s pending refund as `outcome`; `false` when the store no longer lets this owner. */
export async function settle<Req>(
  deps: FlowDeps<Req>,
  record: PaymentRecord,
  owner: string,
  outcome: 'refunded' | 'rejected',
): Promise<boolean> {
  const intent = record.refund!;
  try {
    return await deps.store.finishRefund(record.token, intent.id, owner, { outcome, now: Date.now() });
  } catch (error) {
    deps.log('error', 'the ledger store failed to record a refund’s outcome; it stays pending', {
      ...keyFields(record.token),
      outcome,
      error: describeError(error),
    });
    return false;
  }
}

export async function tellRefunded<Req>(deps: FlowDeps<Req>, ledgerKey: string, made: RefundReceipt): Promise<void> {
  if (!deps.config.onRefunded) return;
  const { orderId, amount, refundedTotal, remaining, transactionId } = made;
  try {
    await deps.config.onRefunded({ orderId, key: publicKey(ledgerKey), amount, refundedTotal, remaining, transactionId });
  } catch (error) {
    deps.log('error', 'onRefunded threw; the refund is made and recorded', { ...keyFields(ledgerKey), error: describeError(error) });
  }
}

export async function guard<T, Req>(deps: FlowDeps<Req>, what: string, key: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    deps.log('error', `the ledger store failed to ${what}; failing closed`, { ...keyFields(key), error: describeError(error) });
    throw new KhaltiError('internal_error');
  }
}

/**
 * Resolve one pending refund whose lease ended, from Khalti's state. Answers what became of it:
 * `resolved` (settled either way) or `pending` (still unknown, or held by someone else).
 */
export async function resolvePendingRefund<Req>(deps: FlowDeps<Req>, record: PaymentRecord): Promise<'resolved' | 'pending'> {
  const intent = record.refund;
  if (!intent) return 'resolved';
  const owner = randomUUID();
  const now = Date.now();
  if (!(await deps.store.takeRefund(record.token, intent.id, owner, now, deps.config.leaseMs))) return 'pending';
  const held = { ...record, refund: { ...intent, owner } };
  const key = parseKey(record.token);
  const deadline = { deadline: now + deps.config.khaltiBudgetMs };
  const view =
    key.kind === 'pidx'
      ? refundViewOfLookup(await deps.client.lookup(key.pidx, deadline).catch(() => ({ kind: 'unavailable', reason: 'network' }) as const))
      : refundViewOfStatus(
          await deps.client
            .status(record.token, record.amount, deadline)
            .catch(() => ({ kind: 'unavailable', reason: 'network' }) as const),
        );
  const resolution = decideRefundResolution(held, view, Date.now(), deps.config.refundSettleMs);
  const fields = { ...keyFields(record.token), orderId: record.orderId, amount: intent.amount, view };
  if (resolution.kind === 'hold') {
    await deps.store.endRefundLease(record.token, intent.id, owner, Date.now()).catch(() => false);
    deps.log(resolution.ambiguous ? 'error' : 'warn', `a refund of unknown outcome stays pending: ${resolution.why}`, fields);
    return 'pending';
  }
  const outcome = resolution.kind === 'refunded' ? 'refunded' : 'rejected';
  if (!(await settle(deps, held, owner, outcome))) return 'pending';
  deps.log(
    'info',
    resolution.kind === 'refunded' ? 'refund of unknown outcome resolved: made' : 'refund of unknown outcome resolved: not made',
    fields,
  );
  if (resolution.kind === 'refunded') await tellRefunded(deps, record.token, receipt(record, intent.amount));
  return 'resolved';
}
