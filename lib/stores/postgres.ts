// PostgresStore: the ledger in PostgreSQL (pg), shared by every app instance.

import pg from 'pg';
import type {
  ClaimInput,
  ClaimResult,
  DeclinedInput,
  LedgerStore,
  MarkVerifiedResult,
  PaymentRecord,
  VerifiedInput,
} from '../ledger/store';
import { Batcher } from './sql/batcher';
import { column } from './sql/postgres-batch';
import { named, PostgresClaims, type Prepared } from './sql/postgres-claims';
import { POSTGRES } from './sql/postgres-dialect';
import type * as refunds from './sql/refunds';
import { fulfilManyFunctionName, postgresFunctionNames, postgresSchema, TABLE_NAME, verifyManyFunctionName } from './sql/postgres-schema';
import { fromRow, jsonText, type PaymentRow } from './sql/rows';
import { SqlLedger } from './sql/sql-ledger';
import { bind, ledgerStatements, type LedgerStatements, type StatementName } from './sql/statements';

export { postgresFunctionNames, postgresSchema };

export interface PostgresStoreOptions {
  /** A pg Pool to use (the store never ends it). Give this or `connectionString`. */
  pool?: pg.Pool;
  /** A connection string; the store makes its own pool and ends it on `close()`. */
  connectionString?: string;
  /** Table name (optionally schema-qualified). Defaults to `khalti_payments`. */
  table?: string;
}

interface VerifyValues {
  token: string;
  owner: string;
  transactionId: string | null;
  khalti: string | null;
  now: number;
}
interface FulfilValues {
  token: string;
  owner: string;
  response: string | null;
  now: number;
}

/**
 * A ledger in PostgreSQL. A claim decides under a per-order advisory lock (postgres-claims.ts: one round
 * trip for most, a transaction for a takeover), the token's row inserted under its primary key (a racing
 * insert of the same token is re-run); "one paid token per order" is a unique index, so `markVerified` is a single guarded UPDATE that the
 * database itself refuses to let pay an order twice. Creates its table on first use.
 */
export class PostgresStore extends SqlLedger implements LedgerStore {
  readonly table: string;
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #sql: LedgerStatements;
  /** Each ledger statement's prepared-statement name. */
  readonly #names: Readonly<Record<StatementName, string>>;
  #ready: Promise<void> | undefined;
  /** The hot path, grouped per event-loop turn into one statement each (postgres-batch.ts). */
  readonly #claims: PostgresClaims;
  readonly #verifies: Batcher<VerifyValues, boolean>;
  readonly #fulfils: Batcher<FulfilValues, boolean>;

  constructor(options: PostgresStoreOptions) {
    super();
    if (!options?.pool && !options?.connectionString) throw new Error('PostgresStore: give `pool` or `connectionString`');
    this.table = options.table ?? 'khalti_payments';
    if (!TABLE_NAME.test(this.table)) throw new Error(`PostgresStore: invalid table name ${JSON.stringify(this.table)}`);
    this.#sql = ledgerStatements(this.table, POSTGRES);
    this.#names = Object.fromEntries(Object.entries(this.#sql).map(([name, statement]) => [name, named(statement.text).name])) as Record<
      StatementName,
      string
    >;
    this.#ownsPool = !options.pool;
    // Idle connections are kept a minute (pg's default is 10 s): a new one pays a connection and the
    // first call of each function and prepared statement, which the first payments after a lull would wait for.
    this.#pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: 10, idleTimeoutMillis: 60_000 });
    // An idle client that loses its connection (a database restart) must not crash the process.
    if (this.#ownsPool) this.#pool.on('error', () => undefined);
    this.#claims = new PostgresClaims(this.#pool, this.table, this.#sql, (name, values, client) => this.#run(name, values, client));
    /** Which of `inputs` a batched transition changed (its function answers their 1-based indexes). */
    const changed = async (statement: Prepared, inputs: readonly unknown[], values: unknown[]) => {
      const rows = (await this.#pool.query<{ i: number }>({ ...statement, values })).rows;
      const matched = new Set(rows.map((row) => row.i));
      return inputs.map((_, i) => matched.has(i + 1));
    };
    // A call alone (or one of a refused batch, re-run alone) goes through the same function.
    const verifyMany = named(
      `SELECT i FROM ${verifyManyFunctionName(this.table)}($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS i`,
    );
    const verify = (inputs: readonly VerifyValues[]) =>
      changed(verifyMany, inputs, [
        column(inputs, 'token'),
        column(inputs, 'owner'),
        column(inputs, 'transactionId'),
        column(inputs, 'khalti'),
        column(inputs, 'now'),
      ]);
    this.#verifies = new Batcher(verify, async (values) => (await verify([values]))[0]!);
    const fulfilMany = named(`SELECT i FROM ${fulfilManyFunctionName(this.table)}($1::text[], $2::text[], $3::text[], $4::bigint[]) AS i`);
    const fulfil = (inputs: readonly FulfilValues[]) =>
      changed(fulfilMany, inputs, [column(inputs, 'token'), column(inputs, 'owner'), column(inputs, 'response'), column(inputs, 'now')]);
    this.#fulfils = new Batcher(fulfil, async (values) => (await fulfil([values]))[0]!);
  }

  /**
   * Create the table and indexes if they are missing. Safe when several instances run it at once
   * (serialized by an advisory lock). Called on first use; call it yourself to migrate up front.
   */
  async migrate(): Promise<void> {
    await this.#migrate();
    this.#ready = Promise.resolve();
  }

  async #migrate(): Promise<void> {
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
    this.#ready ??= this.#migrate().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /** Run a shared ledger statement, on `client` (inside a transaction) or on the pool. */
  async #run(name: StatementName, values: Record<string, unknown>, client?: pg.PoolClient): Promise<pg.QueryResult<PaymentRow>> {
    const statement = this.#sql[name];
    const query = { name: this.#names[name], text: statement.text, values: bind(statement, values) };
    if (client) return client.query<PaymentRow>(query);
    await this.#ensure();
    return this.#pool.query<PaymentRow>(query);
  }

  async claim(input: ClaimInput): Promise<ClaimResult> {
    await this.#ensure();
    return this.#claims.claim(input);
  }

  async markVerified(token: string, owner: string, input: VerifiedInput): Promise<MarkVerifiedResult> {
    const values = { token, owner, transactionId: input.transactionId, khalti: jsonText(input.khalti), now: input.now };
    await this.#ensure();
    try {
      return (await this.#verifies.run(values)) ? 'verified' : 'not_owner';
    } catch (error) {
      if (!POSTGRES.isUniqueViolation(error)) throw error;
      // The unique index says another token already paid this order: keep this payment for a refund.
      const kept = await this.#run('unfulfillable', { ...values, failureCode: 'order_already_paid' });
      return kept.rowCount === 1 ? 'order_conflict' : 'not_owner';
    }
  }

  async markFulfilled(token: string, owner: string, response: unknown, now: number): Promise<boolean> {
    await this.#ensure();
    return this.#fulfils.run({ token, owner, response: jsonText(response), now });
  }

  async markUnfulfillable(token: string, owner: string, input: VerifiedInput & { failureCode: string }): Promise<boolean> {
    const values = {
      token,
      owner,
      failureCode: input.failureCode,
      transactionId: input.transactionId,
      khalti: jsonText(input.khalti),
      now: input.now,
    };
    return (await this.#run('unfulfillable', values)).rowCount === 1;
  }

  async markDeclined(token: string, owner: string, input: DeclinedInput): Promise<boolean> {
    const values = { token, owner, failureCode: input.failureCode, khalti: jsonText(input.khalti), now: input.now };
    return (await this.#run('declined', values)).rowCount === 1;
  }

  async release(token: string, owner: string): Promise<boolean> {
    return (await this.#run('release', { token, owner })).rowCount === 1;
  }

  async endLease(token: string, owner: string, now: number): Promise<boolean> {
    return (await this.#run('endLease', { token, owner, now })).rowCount === 1;
  }

  async get(token: string): Promise<PaymentRecord | null> {
    const result = await this.#run('get', { token });
    return result.rows[0] ? fromRow(result.rows[0]) : null;
  }

  async listStale(now: number, limit: number): Promise<PaymentRecord[]> {
    return (await this.#run('stale', { now, limit })).rows.map(fromRow);
  }

  protected readonly runner: refunds.SqlRunner = {
    rows: async (name, values) => (await this.#run(name, values)).rows,
    changes: async (name, values) => (await this.#run(name, values)).rowCount ?? 0,
  };

  /** Ends the pool the store made (never one it was given); a second call does nothing. */
  async close(): Promise<void> {
    if (!this.#ownsPool || this.#pool.ended) return;
    await this.#pool.end();
  }
}
