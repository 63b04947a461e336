// Settling a pending refund by hand: when Khalti's state cannot tell whether a refund of unknown outcome
// was made (a second partial refund whose answer was lost), an operator checks Khalti's merchant
// dashboard and says which. Only a pending refund whose lease ended can be settled (one being posted
// right now cannot), and only the one named by its id; nothing is posted to Khalti.

import { randomUUID } from 'node:crypto';
import { KhaltiError } from '../errors';
import { keyFields } from '../ledger/keys';
import type { HandSettled, HandSettlement, RefundKey } from '../types';
import type { FlowDeps } from './deps';
import { guard, ledgerKeyOf, receipt, settle, tellRefunded } from './refund';

export async function settleRefund<Req>(deps: FlowDeps<Req>, key: RefundKey, input: HandSettlement): Promise<HandSettled> {
  const ledgerKey = ledgerKeyOf(key);
  const { refundId, outcome } = input ?? ({} as HandSettlement);
  if (typeof refundId !== 'string' || refundId === '' || (outcome !== 'refunded' && outcome !== 'not_refunded')) {
    throw new KhaltiError('invalid_request', {
      message: 'settleRefund() takes { refundId, outcome: "refunded" | "not_refunded" }.',
      details: ['refundId', 'outcome'],
    });
  }
  const record = await guard(deps, 'read a payment', ledgerKey, () => deps.store.get(ledgerKey));
  if (record?.refund?.id !== refundId)
    throw new KhaltiError('refund_not_allowed', { message: 'This payment has no pending refund with that id.' });
  const owner = randomUUID();
  const now = Date.now();
  if (
    !(await guard(deps, 'take a pending refund', ledgerKey, () =>
      deps.store.takeRefund(ledgerKey, refundId, owner, now, deps.config.leaseMs),
    ))
  ) {
    throw new KhaltiError('refund_in_progress', { message: 'This refund is being made right now; settle it once its outcome is unknown.' });
  }
  const held = { ...record, refund: { ...record.refund, owner } };
  if (!(await settle(deps, held, owner, outcome === 'refunded' ? 'refunded' : 'rejected'))) throw new KhaltiError('internal_error');
  const refundedTotal = record.refundedTotal + (outcome === 'refunded' ? record.refund.amount : 0);
  deps.log('warn', `a pending refund was settled by hand: ${outcome === 'refunded' ? 'made' : 'not made'}`, {
    ...keyFields(ledgerKey),
    orderId: record.orderId,
    amount: record.refund.amount,
  });
  if (outcome === 'refunded') await tellRefunded(deps, ledgerKey, receipt(record, record.refund.amount));
  return { ok: true, orderId: record.orderId, outcome, refundedTotal, remaining: record.amount - refundedTotal };
}
