// The refund methods of a SQL store, written once over a small runner: read the record, decide with the
// ledger's rules, then one guarded UPDATE (see statements.ts). Shared by SqliteStore and PostgresStore.

import { decideRefund, settledRefund } from '../../ledger/rules';
import type { BeginRefundInput, BeginRefundResult, FinishRefundInput, PaymentRecord } from '../../ledger/store';
import { fromRow, type PaymentRow } from './rows';
import type { StatementName } from './statements';

/** Runs a named statement: rows for a SELECT, the changed-row count for an UPDATE. */
export interface SqlRunner {
  rows(name: StatementName, values: Record<string, unknown>): Promise<PaymentRow[]>;
  changes(name: StatementName, values: Record<string, unknown>): Promise<number>;
}

/** A guarded UPDATE that lost to a concurrent change is decided again, at most this often. */
const BEGIN_ATTEMPTS = 5;

export async function beginRefund(sql: SqlRunner, token: string, input: BeginRefundInput): Promise<BeginRefundResult> {
  for (let attempt = 1; ; attempt += 1) {
    const [row] = await sql.rows('get', { token });
    const record = row ? fromRow(row) : null;
    const decision = decideRefund(record, input);
    if (decision.kind === 'answer') return decision.result;
    const { intent } = decision;
    const values = {
      token,
      refundId: intent.id,
      refundAmount: intent.amount,
      refundMobile: intent.mobile,
      owner: intent.owner,
      leaseUntil: intent.leaseUntil,
      now: input.now,
      seenTotal: record!.refundedTotal,
    };
    if ((await sql.changes('refundBegin', values)) === 1)
      return { status: 'begun', record: { ...record!, refund: intent, updatedAt: input.now } };
    if (attempt >= BEGIN_ATTEMPTS) throw new Error('refund: the record kept changing while the refund was being recorded');
  }
}

export async function finishRefund(
  sql: SqlRunner,
  token: string,
  refundId: string,
  owner: string,
  input: FinishRefundInput,
): Promise<boolean> {
  const [row] = await sql.rows('get', { token });
  const record: PaymentRecord | null = row ? fromRow(row) : null;
  if (record?.refund?.id !== refundId || record.refund.owner !== owner) return false;
  const settled = settledRefund(record, input.outcome, input.now);
  // Only the intent's owner settles it and no other refund starts meanwhile, so what was read holds;
  // the guard (intent and owner) makes a lost lease a no-op.
  const values = { token, refundId, owner, refundedTotal: settled.refundedTotal, refunds: JSON.stringify(settled.refunds), now: input.now };
  return (await sql.changes('refundSettle', values)) === 1;
}

export async function endRefundLease(sql: SqlRunner, token: string, refundId: string, owner: string, now: number): Promise<boolean> {
  return (await sql.changes('refundEndLease', { token, refundId, owner, now })) === 1;
}

export async function takeRefund(
  sql: SqlRunner,
  token: string,
  refundId: string,
  owner: string,
  now: number,
  leaseMs: number,
): Promise<boolean> {
  return (await sql.changes('refundTake', { token, refundId, owner, now, leaseUntil: now + leaseMs })) === 1;
}

export async function listPendingRefunds(sql: SqlRunner, now: number, limit: number): Promise<PaymentRecord[]> {
  return (await sql.rows('pendingRefunds', { now, limit })).map(fromRow);
}

export async function listOwedRefunds(sql: SqlRunner, limit: number): Promise<PaymentRecord[]> {
  return (await sql.rows('owedRefunds', { limit })).map(fromRow);
}
