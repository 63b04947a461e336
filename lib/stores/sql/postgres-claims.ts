// PostgresStore's claims: most in one round trip (the claim function, grouped per event-loop turn into
// claim_many), the rest (a takeover, a new token beside an order's settled ones) in one transaction
// under the order's advisory lock.

import { createHash } from 'node:crypto';
import type pg from 'pg';
import { claimed, decideClaim, newClaim } from '../../ledger/rules';
import type { ClaimInput, ClaimResult } from '../../ledger/store';
import { claimUntilSettled, writeClaim, type ChangeRunner } from './claim-transaction';
import { Batcher } from './batcher';
import { column } from './postgres-batch';
import { claimCall, claimManyCall, orderLockKey } from './postgres-schema';
import { fromRow, type PaymentRow } from './rows';
import type { LedgerStatements, StatementName } from './statements';

/** A named query: pg parses and plans it once per connection, then only binds values. */
export interface Prepared {
  name: string;
  text: string;
}

/** A prepared statement named by its text's digest, so one text has one name whatever the table. */
export function named(text: string): Prepared {
  return { name: `khx_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`, text };
}

/** Runs a shared ledger statement on `client` (inside a transaction) or on the pool. */
export type PostgresRun = (
  name: StatementName,
  values: Record<string, unknown>,
  client?: pg.PoolClient,
) => Promise<pg.QueryResult<PaymentRow>>;

/** A quick claim's answer from the rows the claim function returned (none: it inserted the claim). */
function quickAnswer(input: ClaimInput, found: readonly PaymentRow[]): ClaimResult | null {
  if (found.length === 0) return claimed(newClaim(input), { kind: 'insert' });
  const rows = found.map(fromRow);
  const existing = rows.find((row) => row.token === input.token) ?? null;
  const decision = decideClaim(
    existing,
    rows.filter((row) => row.orderId === input.orderId),
    input,
  );
  return decision.kind === 'answer' ? decision.result : null;
}

export class PostgresClaims {
  readonly #pool: pg.Pool;
  readonly #table: string;
  readonly #sql: LedgerStatements;
  readonly #run: PostgresRun;
  readonly #one: Prepared;
  readonly #many: Prepared;
  readonly #batch: Batcher<ClaimInput, ClaimResult | null>;

  constructor(pool: pg.Pool, table: string, sql: LedgerStatements, run: PostgresRun) {
    this.#pool = pool;
    this.#table = table;
    this.#sql = sql;
    this.#run = run;
    this.#one = named(claimCall(table));
    this.#many = named(claimManyCall(table));
    this.#batch = new Batcher(
      (inputs) => this.#claimManyQuickly(inputs),
      (input) => this.#claimQuickly(input),
    );
  }

  async claim(input: ClaimInput): Promise<ClaimResult> {
    const quick = await this.#batch.run(input);
    return quick ?? claimUntilSettled('PostgresStore', () => this.#claimOnce(input));
  }

  /**
   * One round trip (the claim function): a new token for an order with no records is inserted, and a
   * claim that only has to answer is answered. `null` when the claim must write over what exists (a
   * takeover, or a new token beside an order's settled ones): the transaction below does that.
   */
  async #claimQuickly(input: ClaimInput): Promise<ClaimResult | null> {
    const record = newClaim(input);
    const found = await this.#pool.query<PaymentRow>({
      ...this.#one,
      values: [record.token, record.orderId, record.amount, record.owner, record.leaseUntil, record.createdAt],
    });
    return quickAnswer(input, found.rows);
  }

  /** The claims of one event-loop turn in one round trip; each row names the claim it answers (`i`). */
  async #claimManyQuickly(inputs: readonly ClaimInput[]): Promise<Array<ClaimResult | null>> {
    const records = inputs.map(newClaim);
    const found = await this.#pool.query<PaymentRow & { i: number }>({
      ...this.#many,
      values: [
        column(records, 'token'),
        column(records, 'orderId'),
        column(records, 'amount'),
        column(records, 'owner'),
        column(records, 'leaseUntil'),
        column(records, 'createdAt'),
      ],
    });
    const rowsOf = inputs.map((): PaymentRow[] => []);
    for (const row of found.rows) rowsOf[row.i - 1]!.push(row);
    return inputs.map((input, i) => quickAnswer(input, rowsOf[i]!));
  }

  async #claimOnce(input: ClaimInput): Promise<ClaimResult | 'raced'> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [orderLockKey(this.#table, input.orderId)]);
      const mine = await client.query<PaymentRow>(`${this.#sql.get.text} FOR UPDATE`, [input.token]);
      const existing = mine.rows[0] ? fromRow(mine.rows[0]) : null;
      const sameOrder = await this.#run('byOrder', { orderId: input.orderId }, client);
      const changes: ChangeRunner = async (name, values) => (await this.#run(name, values, client)).rowCount ?? 0;
      const result = await writeClaim(changes, existing, sameOrder.rows.map(fromRow), input);
      await client.query(result === 'raced' ? 'ROLLBACK' : 'COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
