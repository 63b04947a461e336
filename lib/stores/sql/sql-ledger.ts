// The part of a SQL store that is the same in every dialect once it has a runner: the refund methods
// (refunds.ts) and the listing (listing.ts). SqliteStore, PostgresStore and MysqlStore extend it.

import type {
  BeginRefundInput,
  BeginRefundResult,
  FinishRefundInput,
  LedgerTotals,
  ListPage,
  ListQuery,
  PaymentRecord,
  PaymentState,
} from '../../ledger/store';
import * as listing from './listing';
import * as refunds from './refunds';

export abstract class SqlLedger {
  /** Runs the store's named statements: reads, and writes answering the rows they changed. */
  protected abstract readonly runner: refunds.SqlRunner;

  beginRefund(token: string, input: BeginRefundInput): Promise<BeginRefundResult> {
    return refunds.beginRefund(this.runner, token, input);
  }

  finishRefund(token: string, refundId: string, owner: string, input: FinishRefundInput): Promise<boolean> {
    return refunds.finishRefund(this.runner, token, refundId, owner, input);
  }

  endRefundLease(token: string, refundId: string, owner: string, now: number): Promise<boolean> {
    return refunds.endRefundLease(this.runner, token, refundId, owner, now);
  }

  takeRefund(token: string, refundId: string, owner: string, now: number, leaseMs: number): Promise<boolean> {
    return refunds.takeRefund(this.runner, token, refundId, owner, now, leaseMs);
  }

  listPendingRefunds(now: number, limit: number): Promise<PaymentRecord[]> {
    return refunds.listPendingRefunds(this.runner, now, limit);
  }

  listOwedRefunds(limit: number): Promise<PaymentRecord[]> {
    return refunds.listOwedRefunds(this.runner, limit);
  }

  list(query: ListQuery): Promise<ListPage> {
    return listing.list(this.runner, query);
  }

  count(query?: { state?: PaymentState }): Promise<number> {
    return listing.count(this.runner, query);
  }

  totals(): Promise<LedgerTotals> {
    return listing.totals(this.runner);
  }
}
