// The methods a ledger store must have, for checking a `store` option at start-up.

export const STORE_METHODS = [
  'claim',
  'markVerified',
  'markFulfilled',
  'markUnfulfillable',
  'markDeclined',
  'release',
  'endLease',
  'get',
  'listStale',
  'beginRefund',
  'finishRefund',
  'endRefundLease',
  'takeRefund',
  'listPendingRefunds',
  'listOwedRefunds',
  'list',
  'count',
  'totals',
] as const;

/** The names of required store methods that `value` lacks (empty when it is a usable store). */
export function missingStoreMethods(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return [...STORE_METHODS];
  const candidate = value as Record<string, unknown>;
  return STORE_METHODS.filter((name) => typeof candidate[name] !== 'function');
}
