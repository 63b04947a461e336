// SqliteStore: the ledger in one SQLite file (better-sqlite3), durable on one machine with zero setup.

import Database from 'better-sqlite3';
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
import { fromRow, ledgerSchema, SQL_COLUMNS, toRow, type PaymentRow } from './rows';

export interface SqliteStoreOptions {
  /** The database file; created if missing. `:memory:` works for tests (one process only). Required. */
  filename: string;
  /** Table name. Defaults to `khalti_payments`. */
  table?: string;
  /** How long to wait for another process's write lock, in ms. Defaults to `5000`. */
  busyTimeoutMs?: number;
  /**
   * SQLite's `synchronous` setting. `full` syncs every transaction to disk before it returns: nothing
   * recorded is lost even on power loss, at the cost of an fsync per transition (three per payment),
   * which blocks the event loop. `normal` (WAL) syncs at checkpoints: still safe against process crashes,
   * but a power loss or OS crash can lose the last transactions. Defaults to `full`.
   */
  synchronous?: 'full' | 'normal';
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** Most writes committed together in one transaction. */
const MAX_BATCH = 256;

type Statements = ReturnType<SqliteStore['prepare']>;

/** The schema, for shops that create it themselves. Idempotent. */
export function sqliteSchema(table = 'khalti_payments'): string {
  if (!TABLE_NAME.test(table)) throw new Error(`SqliteStore: invalid table name ${JSON.stringify(table)}`);
  return ledgerSchema(table, 'INTEGER');
}

/**
 * A ledger in a SQLite file, in WAL mode. Every claim and transition runs under SQLite's write lock
 * (`BEGIN IMMEDIATE`), writes of one event-loop turn committed together (group commit); transitions are
 * guarded statements, and a partial unique index lets at most one token per order be paid. Processes
 * sharing the file are serialized by the write lock. Opens the file on first use; `close()` releases it.
 */
export class SqliteStore implements LedgerStore {
  readonly filename: string;
  readonly table: string;
  readonly #busyTimeoutMs: number;
  readonly #synchronous: 'full' | 'normal';
  #db: Database.Database | undefined;
  #statements: Statements | undefined;
  readonly #queue: Array<{ run: (sql: Statements) => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }> = [];

  constructor(options: SqliteStoreOptions) {
    if (typeof options?.filename !== 'string' || options.filename === '') throw new Error('SqliteStore: option `filename` is required');
    this.filename = options.filename;
    this.table = options.table ?? 'khalti_payments';
    if (!TABLE_NAME.test(this.table)) throw new Error(`SqliteStore: invalid table name ${JSON.stringify(this.table)}`);
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    this.#synchronous = options.synchronous ?? 'full';
    if (this.#synchronous !== 'full' && this.#synchronous !== 'normal') throw new Error('SqliteStore: `synchronous` must be "full" or "normal"');
  }

  private prepare(db: Database.Database) {
    const t = this.table;
    const sameTokenOrOrder = db.prepare<[string, string], PaymentRow>(`SELECT ${SQL_COLUMNS} FROM ${t} WHERE token = ? OR order_id = ?`);
    const get = db.prepare<[string], PaymentRow>(`SELECT ${SQL_COLUMNS} FROM ${t} WHERE token = ?`);
    const insert = db.prepare(
      `INSERT INTO ${t} (${SQL_COLUMNS}) VALUES (@token, @order_id, @amount, @state, @owner, @lease_until, @transaction_id, @khalti, @response, @failure_code, @created_at, @updated_at)`,
    );
    const takeover = db.prepare<[string | null, number, number, string]>(`UPDATE ${t} SET owner = ?, lease_until = ?, updated_at = ? WHERE token = ?`);
    // Every transition is one guarded statement: it applies only while `owner` holds the record in the
    // expected state, and the partial unique index refuses a second paid token for one order.
    const verify = db.prepare<[string | null, string, number, string, string]>(
      `UPDATE ${t} SET state = 'verified', transaction_id = ?, khalti = ?, updated_at = ? WHERE token = ? AND owner = ? AND state = 'claimed'`,
    );
    const unfulfillable = db.prepare<[string, string | null, string, number, string, string]>(
      `UPDATE ${t} SET state = 'unfulfillable', failure_code = ?, transaction_id = ?, khalti = ?, owner = NULL, lease_until = 0, updated_at = ?
       WHERE token = ? AND owner = ? AND state = 'claimed'`,
    );
    const fulfil = db.prepare<[string, number, string, string]>(
      `UPDATE ${t} SET state = 'fulfilled', response = ?, owner = NULL, lease_until = 0, updated_at = ? WHERE token = ? AND owner = ? AND state = 'verified'`,
    );
    const declined = db.prepare<[string, string | null, number, string, string]>(
      `UPDATE ${t} SET state = 'declined', failure_code = ?, khalti = ?, owner = NULL, lease_until = 0, updated_at = ? WHERE token = ? AND owner = ? AND state = 'claimed'`,
    );
    const release = db.prepare<[string, string]>(`DELETE FROM ${t} WHERE token = ? AND owner = ? AND state = 'claimed'`);
    const endLease = db.prepare<[number, string, string]>(
      `UPDATE ${t} SET owner = NULL, lease_until = 0, updated_at = ? WHERE token = ? AND owner = ? AND state IN ('claimed', 'verified')`,
    );
    const stale = db.prepare<[number, number], PaymentRow>(
      `SELECT ${SQL_COLUMNS} FROM ${t} WHERE state IN ('claimed', 'verified') AND lease_until <= ? ORDER BY created_at, token LIMIT ?`,
    );
    return { sameTokenOrOrder, get, insert, takeover, verify, unfulfillable, fulfil, declined, release, endLease, stale };
  }

  /** Open the file and create the schema, once. */
  #open(): { db: Database.Database; sql: Statements } {
    if (!this.#db || !this.#statements) {
      const db = new Database(this.filename, { timeout: this.#busyTimeoutMs });
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.#synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      upgradeStateCheck(db, this.table);
      db.exec(sqliteSchema(this.table));
      this.#statements = this.prepare(db);
      this.#db = db;
    }
    return { db: this.#db, sql: this.#statements };
  }

  /**
   * Group commit: writes that arrive in the same turn of the event loop run one after another inside
   * one `BEGIN IMMEDIATE` transaction, so concurrent payments share a disk sync. Each write is still
   * atomic (they run in sequence under the write lock) and resolves only once its transaction has
   * committed; if the transaction fails, every write in it is rejected (none of them happened).
   */
  #write<T>(run: (sql: Statements) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (this.#queue.length === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const batch = this.#queue.splice(0, MAX_BATCH);
    if (this.#queue.length > 0) setImmediate(() => this.#flush());
    let results: unknown[];
    try {
      const { db, sql } = this.#open();
      results = db.transaction(() => batch.map((write) => write.run(sql))).immediate();
    } catch (error) {
      for (const write of batch) write.reject(error);
      return;
    }
    batch.forEach((write, i) => write.resolve(results[i]));
  }

  async claim(input: ClaimInput): Promise<ClaimResult> {
    return this.#write((sql) => {
      const rows = sql.sameTokenOrOrder.all(input.token, input.orderId).map(fromRow);
      const existing = rows.find((record) => record.token === input.token) ?? null;
      const decision = decideClaim(existing, rows.filter((record) => record.orderId === input.orderId), input);
      if (decision.kind === 'answer') return decision.result;
      const record = existing ? takenOver(existing, input) : newClaim(input);
      if (existing) sql.takeover.run(record.owner, record.leaseUntil, record.updatedAt, record.token);
      else sql.insert.run(toRow(record));
      return claimed(record, decision);
    });
  }

  async markVerified(token: string, owner: string, input: VerifiedInput): Promise<MarkVerifiedResult> {
    const khalti = JSON.stringify(input.khalti ?? null);
    return this.#write((sql) => {
      try {
        return sql.verify.run(input.transactionId, khalti, input.now, token, owner).changes === 1 ? 'verified' : 'not_owner';
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw error;
        // The unique index says another token already paid this order: keep this payment for a refund.
        const kept = sql.unfulfillable.run('order_already_paid', input.transactionId, khalti, input.now, token, owner);
        return kept.changes === 1 ? 'order_conflict' : 'not_owner';
      }
    });
  }

  async markFulfilled(token: string, owner: string, response: unknown, now: number): Promise<boolean> {
    const json = JSON.stringify(response ?? null);
    return this.#write((sql) => sql.fulfil.run(json, now, token, owner).changes === 1);
  }

  async markUnfulfillable(token: string, owner: string, input: VerifiedInput & { failureCode: string }): Promise<boolean> {
    const khalti = JSON.stringify(input.khalti ?? null);
    return this.#write((sql) => sql.unfulfillable.run(input.failureCode, input.transactionId, khalti, input.now, token, owner).changes === 1);
  }

  async markDeclined(token: string, owner: string, input: DeclinedInput): Promise<boolean> {
    const khalti = input.khalti === null || input.khalti === undefined ? null : JSON.stringify(input.khalti);
    return this.#write((sql) => sql.declined.run(input.failureCode, khalti, input.now, token, owner).changes === 1);
  }

  async release(token: string, owner: string): Promise<boolean> {
    return this.#write((sql) => sql.release.run(token, owner).changes === 1);
  }

  async endLease(token: string, owner: string, now: number): Promise<boolean> {
    return this.#write((sql) => sql.endLease.run(now, token, owner).changes === 1);
  }

  async get(token: string): Promise<PaymentRecord | null> {
    const row = this.#open().sql.get.get(token);
    return row ? fromRow(row) : null;
  }

  async listStale(now: number, limit: number): Promise<PaymentRecord[]> {
    return this.#open().sql.stale.all(now, limit).map(fromRow);
  }

  async close(): Promise<void> {
    while (this.#queue.length > 0) this.#flush();
    this.#db?.close();
    this.#db = undefined;
    this.#statements = undefined;
  }
}

/**
 * A table made by an earlier version has a CHECK constraint without the `declined` state, and SQLite
 * cannot alter a constraint: rebuild the table under the new schema, rows kept, in one transaction.
 */
function upgradeStateCheck(db: Database.Database, table: string): void {
  const row = db.prepare<[string], { sql: string }>(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table);
  if (!row || row.sql.includes("'declined'")) return;
  db.transaction(() => {
    db.exec(`ALTER TABLE ${table} RENAME TO ${table}_upgrading`);
    for (const index of ['order', 'paid_order', 'stale']) db.exec(`DROP INDEX IF EXISTS ${table}_${index}`);
    db.exec(sqliteSchema(table));
    db.exec(`INSERT INTO ${table} (${SQL_COLUMNS}) SELECT ${SQL_COLUMNS} FROM ${table}_upgrading`);
    db.exec(`DROP TABLE ${table}_upgrading`);
  }).immediate();
}
