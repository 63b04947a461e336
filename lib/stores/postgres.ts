// PostgresStore: the ledger in PostgreSQL (pg), shared by every app instance.

import pg from 'pg';
import { claimed, decideClaim, newClaim, takenOver } from '../ledger/rules';
import type {
  ClaimInput,
  ClaimResult,
  DeclinedInput,
  LedgerStore,
  MarkVerifiedResult,
  PaymentRecord,
  VerifiedInput,
} from '../ledger/store';
import { COLUMNS, fromRow, ledgerSchema, SQL_COLUMNS, STATE_LIST, toRow, type PaymentRow } from './rows';

export interface PostgresStoreOptions {
  /** A pg Pool to use (the store never ends it). Give this or `connectionString`. */
  pool?: pg.Pool;
  /** A connection string; the store makes its own pool and ends it on `close()`. */
  connectionString?: string;
  /** Table name (optionally schema-qualified). Defaults to `khalti_payments`. */
  table?: string;
}

const TABLE_NAME = /^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** PostgreSQL's unique_violation. */
const UNIQUE_VIOLATION = '23505';
/** How often a claim that lost an insert race is re-run before giving up. */
const CLAIM_ATTEMPTS = 3;

/**
 * The schema (idempotent), for shops that run migrations themselves. The primary key binds a token to
 * one record; the partial unique index lets at most one token per order be verified or fulfilled.
 */
export function postgresSchema(table = 'khalti_payments'): string {
  if (!TABLE_NAME.test(table)) throw new Error(`PostgresStore: invalid table name ${JSON.stringify(table)}`);
  const constraint = `${table.split('.').at(-1)}_state_check`;
  // A table made by an earlier version checks for fewer states: widen its CHECK, only then (an ALTER
  // takes the table's exclusive lock, which must not queue behind live claims on every start-up).
  return `${ledgerSchema(table, 'bigint')}
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '${table}'::regclass AND conname = '${constraint}'
                 AND pg_get_constraintdef(oid) LIKE '%declined%') THEN
    ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${constraint};
    ALTER TABLE ${table} ADD CONSTRAINT ${constraint} CHECK (state IN (${STATE_LIST}));
  END IF;
END $$;`;
}

/**
 * A ledger in PostgreSQL. Claims run in one transaction holding a per-order advisory lock, with the
 * token's row locked and inserted under its primary key (a racing insert of the same token is re-run);
 * "one paid token per order" is a unique index, so `markVerified` is a single guarded UPDATE that the
 * database itself refuses to let pay an order twice. Creates its table on first use.
 */
export class PostgresStore implements LedgerStore {
  readonly table: string;
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  #ready: Promise<void> | undefined;

  constructor(options: PostgresStoreOptions) {
    if (!options?.pool && !options?.connectionString) throw new Error('PostgresStore: give `pool` or `connectionString`');
    this.table = options.table ?? 'khalti_payments';
    if (!TABLE_NAME.test(this.table)) throw new Error(`PostgresStore: invalid table name ${JSON.stringify(this.table)}`);
    this.#ownsPool = !options.pool;
    this.#pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: 10 });
    // An idle client that loses its connection (a database restart) must not crash the process.
    if (this.#ownsPool) this.#pool.on('error', () => undefined);
  }

  /**
   * Create the table and indexes if they are missing. Safe when several instances run it at once
   * (serialized by an advisory lock). Called on first use; call it yourself to migrate up front.
   */
  async migrate(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`khalti-express:migrate:${this.table}`]);
      try {
        await client.query(postgresSchema(this.table));
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`khalti-express:migrate:${this.table}`]);
      }
    } finally {
      client.release();
    }
  }

  async #ensure(): Promise<void> {
    this.#ready ??= this.migrate().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async #query(text: string, values: unknown[]): Promise<pg.QueryResult<PaymentRow>> {
    await this.#ensure();
    return this.#pool.query<PaymentRow>(text, values);
  }

  async claim(input: ClaimInput): Promise<ClaimResult> {
    await this.#ensure();
    for (let attempt = 1; ; attempt += 1) {
      const result = await this.#claimOnce(input);
      if (result !== 'raced') return result;
      if (attempt >= CLAIM_ATTEMPTS) throw new Error('PostgresStore: claim kept racing with inserts of the same token');
    }
  }

  async #claimOnce(input: ClaimInput): Promise<ClaimResult | 'raced'> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`khalti-express:order:${this.table}:${input.orderId}`]);
      const mine = await client.query<PaymentRow>(`SELECT ${SQL_COLUMNS} FROM ${this.table} WHERE token = $1 FOR UPDATE`, [input.token]);
      const existing = mine.rows[0] ? fromRow(mine.rows[0]) : null;
      const sameOrder = await client.query<PaymentRow>(`SELECT ${SQL_COLUMNS} FROM ${this.table} WHERE order_id = $1`, [input.orderId]);
      const decision = decideClaim(existing, sameOrder.rows.map(fromRow), input);
      if (decision.kind === 'answer') {
        await client.query('COMMIT');
        return decision.result;
      }
      const record = existing ? takenOver(existing, input) : newClaim(input);
      const row = toRow(record);
      if (existing) {
        await client.query(`UPDATE ${this.table} SET owner = $2, lease_until = $3, updated_at = $4 WHERE token = $1`, [
          row.token,
          row.owner,
          row.lease_until,
          row.updated_at,
        ]);
      } else {
        const placeholders = COLUMNS.map((_, i) => `$${i + 1}`).join(', ');
        const inserted = await client.query(
          `INSERT INTO ${this.table} (${SQL_COLUMNS}) VALUES (${placeholders}) ON CONFLICT (token) DO NOTHING`,
          COLUMNS.map((column) => row[column]),
        );
        if (inserted.rowCount === 0) {
          // Another order's claim inserted this token first (it held another order lock): decide again.
          await client.query('ROLLBACK');
          return 'raced';
        }
      }
      await client.query('COMMIT');
      return claimed(record, decision);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async markVerified(token: string, owner: string, input: VerifiedInput): Promise<MarkVerifiedResult> {
    const values = [token, owner, input.transactionId, JSON.stringify(input.khalti ?? null), input.now];
    try {
      const verified = await this.#query(
        `UPDATE ${this.table} SET state = 'verified', transaction_id = $3, khalti = $4, updated_at = $5
         WHERE token = $1 AND owner = $2 AND state = 'claimed'`,
        values,
      );
      return verified.rowCount === 1 ? 'verified' : 'not_owner';
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      // The unique index says another token already paid this order: keep this payment for a refund.
      const kept = await this.#query(
        `UPDATE ${this.table} SET state = 'unfulfillable', failure_code = 'order_already_paid', transaction_id = $3, khalti = $4,
         owner = NULL, lease_until = 0, updated_at = $5 WHERE token = $1 AND owner = $2 AND state = 'claimed'`,
        values,
      );
      return kept.rowCount === 1 ? 'order_conflict' : 'not_owner';
    }
  }

  async markFulfilled(token: string, owner: string, response: unknown, now: number): Promise<boolean> {
    const result = await this.#query(
      `UPDATE ${this.table} SET state = 'fulfilled', response = $3, owner = NULL, lease_until = 0, updated_at = $4
       WHERE token = $1 AND owner = $2 AND state = 'verified'`,
      [token, owner, JSON.stringify(response ?? null), now],
    );
    return result.rowCount === 1;
  }

  async markUnfulfillable(token: string, owner: string, input: VerifiedInput & { failureCode: string }): Promise<boolean> {
    const result = await this.#query(
      `UPDATE ${this.table} SET state = 'unfulfillable', failure_code = $3, transaction_id = $4, khalti = $5, owner = NULL,
       lease_until = 0, updated_at = $6 WHERE token = $1 AND owner = $2 AND state = 'claimed'`,
      [token, owner, input.failureCode, input.transactionId, JSON.stringify(input.khalti ?? null), input.now],
    );
    return result.rowCount === 1;
  }

  async markDeclined(token: string, owner: string, input: DeclinedInput): Promise<boolean> {
    const khalti = input.khalti === null || input.khalti === undefined ? null : JSON.stringify(input.khalti);
    const result = await this.#query(
      `UPDATE ${this.table} SET state = 'declined', failure_code = $3, khalti = $4, owner = NULL, lease_until = 0, updated_at = $5
       WHERE token = $1 AND owner = $2 AND state = 'claimed'`,
      [token, owner, input.failureCode, khalti, input.now],
    );
    return result.rowCount === 1;
  }

  async release(token: string, owner: string): Promise<boolean> {
    const result = await this.#query(`DELETE FROM ${this.table} WHERE token = $1 AND owner = $2 AND state = 'claimed'`, [token, owner]);
    return result.rowCount === 1;
  }

  async endLease(token: string, owner: string, now: number): Promise<boolean> {
    const result = await this.#query(
      `UPDATE ${this.table} SET owner = NULL, lease_until = 0, updated_at = $3
       WHERE token = $1 AND owner = $2 AND state IN ('claimed', 'verified')`,
      [token, owner, now],
    );
    return result.rowCount === 1;
  }

  async get(token: string): Promise<PaymentRecord | null> {
    const result = await this.#query(`SELECT ${SQL_COLUMNS} FROM ${this.table} WHERE token = $1`, [token]);
    return result.rows[0] ? fromRow(result.rows[0]) : null;
  }

  async listStale(now: number, limit: number): Promise<PaymentRecord[]> {
    const result = await this.#query(
      `SELECT ${SQL_COLUMNS} FROM ${this.table} WHERE state IN ('claimed', 'verified') AND lease_until <= $1
       ORDER BY created_at, token LIMIT $2`,
      [now, limit],
    );
    return result.rows.map(fromRow);
  }

  async close(): Promise<void> {
    if (this.#ownsPool) await this.#pool.end();
  }
}
