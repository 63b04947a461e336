// The part of a SQL claim that runs inside the store's transaction, under the order's lock, written
// once for PostgresStore and MysqlStore: decide on what exists, then take over or insert.

import { claimed, decideClaim, newClaim, takenOver } from '../../ledger/rules';
import type { ClaimInput, ClaimResult, PaymentRecord } from '../../ledger/store';
import { toRow } from './rows';
import type { StatementName } from './statements';

/** Runs a write inside the transaction; answers the rows it changed. */
export type ChangeRunner = (name: StatementName, values: Record<string, unknown>) => Promise<number>;

/**
 * Decide the claim on the token's record (`existing`, read `FOR UPDATE`) and the order's records, and
 * write it. Commit on a result; roll back on `'raced'`: another order's claim inserted this token first
 * (it held another order's lock), so the claim must be decided again.
 */
export async function writeClaim(
  changes: ChangeRunner,
  existing: PaymentRecord | null,
  sameOrder: PaymentRecord[],
  input: ClaimInput,
): Promise<ClaimResult | 'raced'> {
  const decision = decideClaim(existing, sameOrder, input);
  if (decision.kind === 'answer') return decision.result;
  const record = existing ? takenOver(existing, input) : newClaim(input);
  if (existing)
    await changes('takeover', { owner: record.owner, leaseUntil: record.leaseUntil, now: record.updatedAt, token: record.token });
  else if ((await changes('insert', { ...toRow(record) })) === 0) return 'raced';
  return claimed(record, decision);
}

/** How often a claim that lost an insert race is re-run before giving up. */
const CLAIM_ATTEMPTS = 3;

/** Run `once` until it is not `'raced'`, at most `CLAIM_ATTEMPTS` times; `store` names the store in the error. */
export async function claimUntilSettled(store: string, once: () => Promise<ClaimResult | 'raced'>): Promise<ClaimResult> {
  for (let attempt = 1; ; attempt += 1) {
    const result = await once();
    if (result !== 'raced') return result;
    if (attempt >= CLAIM_ATTEMPTS) throw new Error(`${store}: claim kept racing with inserts of the same token`);
  }
}
