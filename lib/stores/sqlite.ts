// SqliteStore: the ledger in one SQLite file (better-sqlite3), durable on one machine with zero setup.

import Database from 'better-sqlite3';
import { claimed, decideClaim, newClaim, takenOver } from '../ledger/rules';
import type {
  ClaimInput,
  ClaimResult,
  LedgerStore,
  MarkVerifiedResult,
  PaymentRecord,
  VerifiedInput,
} from '../ledger/store';
import { fromRow, SQL_COLUMNS, toRow, type PaymentRow } from './rows';

export interface SqliteStoreOptions {
  /** The database file; created if missing. `:memory:` works for tests (one process only). Required. */
  filename: string;
  /** Table name. Defaults to `khalti_payments`. */
  table?: string;
  /** How long to wait for another process's write lock, in ms. Defaults to `5000`. */
  busyTimeoutMs?: number;
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The schema, for shops that create it themselves. Idempotent. */
export function sqliteSchema(table = 'khalti_payments'): string {
  if (!TABLE_NAME.test(table)) throw new Error(`SqliteStore: invalid table name ${JSON.stringify(table)}`);
  return `
CREATE TABLE IF NOT EXISTS ${table} (
  token TEXT PRIMARY KEY,
  order_id TEXT NOT NULL,
  amount INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('claimed', 'verified', 'fulfilled', 'unfulfillable')),
  owner TEXT,
  lease_until INTEGER NOT NULL,
  transaction_id TEXT,
  khalti TEXT,
  response TEXT,
  failure_code TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ${table}_order ON ${table} (order_id);
CREATE UNIQUE INDEX IF NOT EXISTS ${table}_paid_order ON ${table} (order_id) WHERE state IN ('verified', 'fulfilled');
CREATE INDEX IF NOT EXISTS ${table}_stale ON ${table} (created_at) WHERE state IN ('claimed', 'verified');`;
}

/**
 * A ledger in a SQLite file. WAL mode with full sync; every claim and transition is one
 * `BEGIN IMMEDIATE` transaction, so processes sharing the file are serialized by SQLite's write lock.
 * Opens the file on first use; `close()` releases it.
 */
export class SqliteStore implements LedgerStore {
  readonly filename: string;
  readonly table: string;
  readonly #busyTimeoutMs: number;
  #db: Database.Database | undefined;
  #statements: ReturnType<SqliteStore['prepare']> | undefined;

  constructor(options: SqliteStoreOptions) {
    if (typeof options?.filename !== 'string' || options.filename === '') throw new Error('SqliteStore: option `filename` is required');
    this.filename = options.filename;
    this.table = options.table ?? 'khalti_payments';
    if (!TABLE_NAME.test(this.table)) throw new Error(`SqliteStore: invalid table name ${JSON.stringify(this.table)}`);
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  }

  private prepare(db: Database.Database) {
    const t = this.table;
    const get = db.prepare<[string], PaymentRow>(`SELECT ${SQL_COLUMNS} FROM ${t} WHERE token = ?`);
    const byOrder = db.prepare<[string], PaymentRow>(`SELECT ${SQL_COLUMNS} FROM ${t} WHERE order_id = ?`);
    const insert = db.prepare(
      `INSERT INTO ${t} (${SQL_COLUMNS}) VALUES (@token, @order_id, @amount, @state, @owner, @lease_until, @transaction_id, @khalti, @response, @failure_code, @created_at, @updated_at)`,
    );
    const update = db.prepare(
      `UPDATE ${t} SET state = @state, owner = @owner, lease_until = @lease_until, transaction_id = @transaction_id, khalti = @khalti,
       response = @response, failure_code = @failure_code, updated_at = @updated_at WHERE token = @token`,
    );
    const remove = db.prepare<[string]>(`DELETE FROM ${t} WHERE token = ?`);
    const paidElsewhere = db.prepare<[string, string]>(
      `SELECT 1 FROM ${t} WHERE order_id = ? AND token <> ? AND state IN ('verified', 'fulfilled') LIMIT 1`,
    );
    const stale = db.prepare<[number, number], PaymentRow>(
      `SELECT ${SQL_COLUMNS} FROM ${t} WHERE state IN ('claimed', 'verified') AND lease_until <= ? ORDER BY created_at, token LIMIT ?`,
    );
    return { get, byOrder, insert, update, remove, paidElsewhere, stale };
  }

  /** Open the file and create the schema, once. */
  #open(): { db: Database.Database; sql: ReturnType<SqliteStore['prepare']> } {
    if (!this.#db || !this.#statements) {
      const db = new Database(this.filename, { timeout: this.#busyTimeoutMs });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec(sqliteSchema(this.table));
      this.#statements = this.prepare(db);
      this.#db = db;
    }
    return { db: this.#db, sql: this.#statements };
  }

  /** Run `fn` in one `BEGIN IMMEDIATE` transaction. */
  #write<T>(fn: (sql: ReturnType<SqliteStore['prepare']>) => T): T {
    const { db, sql } = this.#open();
    return db.transaction(() => fn(sql)).immediate();
  }

  /** The record `token` holds for `owner` in `state`, or undefined. */
  #owned(sql: ReturnType<SqliteStore['prepare']>, token: string, owner: string, state: PaymentRecord['state']): PaymentRecord | undefined {
    const row = sql.get.get(token);
    const record = row ? fromRow(row) : undefined;
    return record && record.owner === owner && record.state === state ? record : undefined;
  }

  async claim(input: ClaimInput): Promise<ClaimResult> {
    return this.#write((sql) => {
      const row = sql.get.get(input.token);
      const existing = row ? fromRow(row) : null;
      const decision = decideClaim(existing, sql.byOrder.all(input.orderId).map(fromRow), input);
      if (decision.kind === 'answer') return decision.result;
      const record = existing ? takenOver(existing, input) : newClaim(input);
      (existing ? sql.update : sql.insert).run(toRow(record));
      return claimed(record, decision);
    });
  }

  async markVerified(token: string, owner: string, input: VerifiedInput): Promise<MarkVerifiedResult> {
    return this.#write((sql) => {
      const record = this.#owned(sql, token, owner, 'claimed');
      if (!record) return 'not_owner';
      const base = { ...record, transactionId: input.transactionId, khalti: input.khalti ?? null, updatedAt: input.now };
      if (sql.paidElsewhere.get(record.orderId, token)) {
        sql.update.run(toRow({ ...base, state: 'unfulfillable', failureCode: 'order_already_paid', owner: null, leaseUntil: 0 }));
        return 'order_conflict';
      }
      sql.update.run(toRow({ ...base, state: 'verified' }));
      return 'verified';
    });
  }

  async markFulfilled(token: string, owner: string, response: unknown, now: number): Promise<boolean> {
    return this.#write((sql) => {
      const record = this.#owned(sql, token, owner, 'verified');
      if (!record) return false;
      sql.update.run(toRow({ ...record, state: 'fulfilled', response: response ?? null, owner: null, leaseUntil: 0, updatedAt: now }));
      return true;
    });
  }

  async markUnfulfillable(token: string, owner: string, input: VerifiedInput & { failureCode: string }): Promise<boolean> {
    return this.#write((sql) => {
      const record = this.#owned(sql, token, owner, 'claimed');
      if (!record) return false;
      sql.update.run(
        toRow({
          ...record,
          state: 'unfulfillable',
          failureCode: input.failureCode,
          transactionId: input.transactionId,
          khalti: input.khalti ?? null,
          owner: null,
          leaseUntil: 0,
          updatedAt: input.now,
        }),
      );
      return true;
    });
  }

  async release(token: string, owner: string): Promise<boolean> {
    return this.#write((sql) => {
      if (!this.#owned(sql, token, owner, 'claimed')) return false;
      sql.remove.run(token);
      return true;
    });
  }

  async endLease(token: string, owner: string, now: number): Promise<boolean> {
    return this.#write((sql) => {
      const record = this.#owned(sql, token, owner, 'claimed') ?? this.#owned(sql, token, owner, 'verified');
      if (!record) return false;
      sql.update.run(toRow({ ...record, owner: null, leaseUntil: 0, updatedAt: now }));
      return true;
    });
  }

  async get(token: string): Promise<PaymentRecord | null> {
    const row = this.#open().sql.get.get(token);
    return row ? fromRow(row) : null;
  }

  async listStale(now: number, limit: number): Promise<PaymentRecord[]> {
    return this.#open().sql.stale.all(now, limit).map(fromRow);
  }

  async close(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
    this.#statements = undefined;
  }
}
