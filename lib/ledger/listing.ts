// Listing the ledger, the parts every store shares: the order (newest first), the page cursor, the
// query's checks, and empty totals. A cursor is opaque to callers: base64url of `<createdAt>:<key>`.

import type { LedgerTotals, ListQuery, PaymentRecord, PaymentState } from './store';

export const PAYMENT_STATES: readonly PaymentState[] = ['claimed', 'verified', 'fulfilled', 'unfulfillable', 'declined'];

/** The most records one page may hold. */
export const MAX_PAGE = 1000;

/** Where a page starts after: the last record of the page before. */
export interface CursorPosition {
  createdAt: number;
  token: string;
}

export function encodeCursor(record: Pick<PaymentRecord, 'createdAt' | 'token'>): string {
  return Buffer.from(`${record.createdAt}:${record.token}`, 'utf8').toString('base64url');
}

/** The position a cursor names; throws for anything `encodeCursor` did not make. */
export function decodeCursor(cursor: string): CursorPosition {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^(\d{1,16}):(.+)$/s.exec(text);
  if (!match || encodeCursor({ createdAt: Number(match[1]), token: match[2]! }) !== cursor)
    throw new Error('list(): invalid `before` cursor');
  return { createdAt: Number(match[1]), token: match[2]! };
}

/** A checked query, with its cursor decoded. Throws a plain Error naming the bad field. */
export function checkListQuery(query: ListQuery): { state?: PaymentState; orderId?: string; after: CursorPosition | null; limit: number } {
  const { state, orderId, before, limit } = query ?? ({} as ListQuery);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw new Error(`list(): limit must be a whole number from 1 to ${MAX_PAGE}`);
  if (state !== undefined && !PAYMENT_STATES.includes(state)) throw new Error(`list(): unknown state ${JSON.stringify(state)}`);
  if (orderId !== undefined && (typeof orderId !== 'string' || orderId === ''))
    throw new Error('list(): orderId must be a non-empty string');
  return {
    ...(state === undefined ? {} : { state }),
    ...(orderId === undefined ? {} : { orderId }),
    after: before === undefined || before === null ? null : decodeCursor(before),
    limit,
  };
}

export function checkCountQuery(query: { state?: PaymentState } | undefined): PaymentState | undefined {
  const state = query?.state;
  if (state !== undefined && !PAYMENT_STATES.includes(state)) throw new Error(`count(): unknown state ${JSON.stringify(state)}`);
  return state;
}

/** Newest first: `createdAt` descending, then the key descending (code-unit order, as SQL's binary collation). */
export function newestFirst(a: CursorPosition, b: CursorPosition): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.token === b.token ? 0 : a.token < b.token ? 1 : -1;
}

/** True when `record` comes after `position` in newest-first order. */
export function isAfter(record: CursorPosition, position: CursorPosition | null): boolean {
  return position === null || newestFirst(position, record) < 0;
}

/** A page of `limit` from `candidates` (newest first, one more than `limit` when there is more). */
export function pageOf(candidates: PaymentRecord[], limit: number): { records: PaymentRecord[]; next: string | null } {
  // A new array of this realm: a native driver's array (better-sqlite3's) would carry another realm's
  // prototype into the caller's hands through slice().
  const records = Array.from({ length: Math.min(limit, candidates.length) }, (_, i) => candidates[i]!);
  return { records, next: candidates.length > limit ? encodeCursor(records[records.length - 1]!) : null };
}

/** A page of one order's records (few: filtered and sorted here, not indexed). */
export function orderPage(
  records: PaymentRecord[],
  state: PaymentState | undefined,
  after: CursorPosition | null,
  limit: number,
): { records: PaymentRecord[]; next: string | null } {
  const kept = records.filter((record) => (state === undefined || record.state === state) && isAfter(record, after)).sort(newestFirst);
  return pageOf(kept, limit);
}

export function emptyTotals(): LedgerTotals {
  return Object.fromEntries(PAYMENT_STATES.map((state) => [state, { count: 0, amount: 0, refunded: 0 }])) as LedgerTotals;
}
