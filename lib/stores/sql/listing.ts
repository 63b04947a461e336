// The listing methods of a SQL store, written once over the refund methods' runner: a page, a count,
// the totals per state. Shared by SqliteStore and PostgresStore.

import { checkCountQuery, checkListQuery, emptyTotals, pageOf } from '../../ledger/listing';
import type { LedgerTotals, ListPage, ListQuery, PaymentState } from '../../ledger/store';
import { listStatementName } from './listing-statements';
import type { SqlRunner } from './refunds';
import { fromRow } from './rows';

export async function list(sql: SqlRunner, query: ListQuery): Promise<ListPage> {
  const { state, orderId, after, limit } = checkListQuery(query);
  const name = listStatementName(state !== undefined, orderId !== undefined, after !== null);
  const rows = await sql.rows(name, {
    ...(state === undefined ? {} : { state }),
    ...(orderId === undefined ? {} : { orderId }),
    ...(after === null ? {} : { createdAt: after.createdAt, token: after.token }),
    limit: limit + 1,
  });
  return pageOf(rows.map(fromRow), limit);
}

export async function count(sql: SqlRunner, query?: { state?: PaymentState }): Promise<number> {
  const state = checkCountQuery(query);
  const [row] = (await (state === undefined ? sql.rows('countAll', {}) : sql.rows('countState', { state }))) as unknown as Array<{
    n: number | string;
  }>;
  return Number(row?.n ?? 0);
}

export async function totals(sql: SqlRunner): Promise<LedgerTotals> {
  const rows = (await sql.rows('totals', {})) as unknown as Array<{ state: PaymentState; n: unknown; amount: unknown; refunded: unknown }>;
  const out = emptyTotals();
  for (const row of rows) out[row.state] = { count: Number(row.n), amount: Number(row.amount), refunded: Number(row.refunded) };
  return out;
}
