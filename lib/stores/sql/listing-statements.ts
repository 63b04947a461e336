// The listing statements of a SQL store: a page for each combination of filters (state, order, cursor),
// counts, and totals per state. Newest first is `created_at DESC, {key} DESC`, `{key}` being the key in
// byte order (see SqlDialect.sortKey); the indexes in rows.ts serve exactly these orders.

import { SQL_COLUMNS } from './rows';

/** `list` + `S` (by state) + `O` (by order) + `C` (after a cursor): the name of a page statement. */
export type ListStatementName = `list${'' | 'S'}${'' | 'O'}${'' | 'C'}`;

function pageTemplate(byState: boolean, byOrder: boolean, afterCursor: boolean): string {
  const where = [
    byState ? 'state = :state' : '',
    byOrder ? 'order_id = :orderId' : '',
    afterCursor ? '(created_at, {key}) < (:createdAt, :token)' : '',
  ].filter(Boolean);
  return `SELECT ${SQL_COLUMNS} FROM {table}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}
    ORDER BY created_at DESC, {key} DESC LIMIT :limit`;
}

const pages = {} as Record<ListStatementName, string>;
for (const s of [false, true])
  for (const o of [false, true])
    for (const c of [false, true]) pages[`list${s ? 'S' : ''}${o ? 'O' : ''}${c ? 'C' : ''}` as ListStatementName] = pageTemplate(s, o, c);

export const LISTING_TEMPLATES = {
  ...pages,
  countAll: 'SELECT count(*) AS n FROM {table}',
  countState: 'SELECT count(*) AS n FROM {table} WHERE state = :state',
  // The summary reads every row once (a sum needs each amount); the page and count statements do not.
  totals: `SELECT state, count(*) AS n, coalesce(sum(amount), 0) AS amount, coalesce(sum(refunded_total), 0) AS refunded
    FROM {table} GROUP BY state`,
};

/** The page statement for a query's filters. */
export function listStatementName(byState: boolean, byOrder: boolean, afterCursor: boolean): ListStatementName {
  return `list${byState ? 'S' : ''}${byOrder ? 'O' : ''}${afterCursor ? 'C' : ''}` as ListStatementName;
}
