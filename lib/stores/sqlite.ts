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
import type * as refunds from './sql/refunds';
import { SqlLedger } from './sql/sql-ledger';
import { fromRow, jsonText, toRow, type PaymentRow } from './sql/rows';
import { sqliteSchema, TABLE_NAME, upgradeSqliteTable } from './sql/sqlite-upgrade';

export { sqliteSchema };
import { SQLITE } from './sql/sqlite-dialect';
import { bind, ledgerStatements, type StatementName } from './sql/statements';
import { WalSync } from './sql/wal-sync';

export interface SqliteStoreOptions {
  /** The database file; created if missing. `:memory:` works for tests (one process only). Required. */
  filename: string;
  /** Table name. Defaults to `khalti_payments`. */
  table?: string;
  /** How long to wait for another process's write lock, in ms. Defaults to `5000`. */
  busyTimeoutMs?: number;
  /**
   * How writes reach the disk. `full`: nothing the store answers is lost even on power loss or an OS
   * crash: every write, and every read, resolves only after the WAL file has been synced since (the
   * sync runs off the event loop, and writes waiting together share one). `normal` (SQLite's WAL
   * `synchronous = NORMAL`) syncs at checkpoints only: still safe against process crashes, but a power
   * loss or OS crash can lose the last transactions. Defaults to `full`.
   */
  synchronous?: 'full' | 'normal';
}

/** Most writes committed together in one transaction. */
const MAX_BATCH = 256;

type Statements = ReturnType<SqliteStore['prepare']>;

/**
 * A ledger in a SQLite file, in WAL mode. Every claim and transition runs under SQLite's write lock
 * (`BEGIN IMMEDIATE`), writes of one event-loop turn committed together (group commit); transitions are
 * guarded statements, and a partial unique index lets at most one token per order be paid. Processes
 * sharing the file are serialized by the write lock. Opens the file on first use; `close()` releases it.
 */
export class SqliteStore extends SqlLedger implements LedgerStore {
  readonly filename: string;
  readonly table: string;
  readonly #busyTimeoutMs: number;
  readonly #synchronous: 'full' | 'normal';
  #db: Database.Database | undefined;
  #statements: Statements | undefined;
  /** `full` on a file: the WAL's syncs, made off the event loop (undefined for `normal` and `:memory:`). */
  #wal: WalSync | undefined;
  readonly #queue: Array<{ run: (sql: Statements) => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }> = [];

  constructor(options: SqliteStoreOptions) {
    super();
    if (typeof options?.filename !== 'string' || options.filename === '') throw new Error('SqliteStore: option `filename` is required');
    this.filename = options.filename;
    this.table = options.table ?? 'khalti_payments';
    if (!TABLE_NAME.test(this.table)) throw new Error(`SqliteStore: invalid table name ${JSON.stringify(this.table)}`);
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    this.#synchronous = options.synchronous ?? 'full';
    if (this.#synchronous !== 'full' && this.#synchronous !== 'normal')
      throw new Error('SqliteStore: `synchronous` must be "full" or "normal"');
  }

  /** The shared ledger statements, prepared; `run`/`all`/`get` bind named values. */
  private prepare(db: Database.Database) {
    const prepared = new Map<StatementName, { sql: Database.Statement; names: Parameters<typeof bind>[0] }>();
    for (const [name, statement] of Object.entries(ledgerStatements(this.table, SQLITE))) {
      prepared.set(name as StatementName, { sql: db.prepare(statement.text), names: statement });
    }
    const use = (name: StatementName) => prepared.get(name)!;
    return {
      run: (name: StatementName, values: Record<string, unknown>) => use(name).sql.run(...bind(use(name).names, values)).changes,
      all: (name: StatementName, values: Record<string, unknown>) => use(name).sql.all(...bind(use(name).names, values)) as PaymentRow[],
      get: (name: StatementName, values: Record<string, unknown>) =>
        use(name).sql.get(...bind(use(name).names, values)) as PaymentRow | undefined,
    };
  }

  /** Open the file and create the schema, once. */
  #open(): { db: Database.Database; sql: Statements } {
    if (!this.#db || !this.#statements) {
      const db = new Database(this.filename, { timeout: this.#busyTimeoutMs });
      try {
        const wal = db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
        // `full` on a file: SQLite commits without syncing and WalSync syncs before anything is answered,
        // so the event loop never waits for the disk. An in-memory database has no WAL (and no disk).
        const syncHere = this.#synchronous === 'full' && !wal;
        db.pragma(`synchronous = ${syncHere ? 'FULL' : 'NORMAL'}`);
        upgradeSqliteTable(db, this.table, sqliteSchema(this.table));
        db.exec(sqliteSchema(this.table));
        this.#statements = this.prepare(db);
        if (this.#synchronous === 'full' && wal) this.#wal = new WalSync(db.name);
      } catch (error) {
        db.close();
        this.#statements = undefined;
        throw error;
      }
      this.#db = db;
    }
    return { db: this.#db, sql: this.#statements };
  }

  /**
   * Group commit: writes that arrive in the same turn of the event loop run one after another inside
   * one `BEGIN IMMEDIATE` transaction, so concurrent payments share a disk sync. Each write is still
   * atomic (they run in sequence under the write lock) and resolves only once its transaction has
   * committed (and, with `full`, been synced); if the transaction fails, every write in it is rejected
   * (none of them happened).
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
    if (!this.#wal) batch.forEach((write, i) => write.resolve(results[i]));
    else
      this.#wal.durable().then(
        () => batch.forEach((write, i) => write.resolve(results[i])),
        (error) => batch.forEach((write) => write.reject(error)),
      );
  }

  /** A read's answer, once it is durable: with `full`, what it saw may have been committed but not synced yet. */
  async #read<T>(read: (sql: Statements) => T): Promise<T> {
    const answer = read(this.#open().sql);
    if (this.#wal) await this.#wal.durable();
    return answer;
  }

  async claim(input: ClaimInput): Promise<ClaimResult> {
    return this.#write((sql) => {
      const mine = sql.get('get', { token: input.token });
      const existing = mine ? fromRow(mine) : null;
      const sameOrder = sql.all('byOrder', { orderId: input.orderId }).map(fromRow);
      const decision = decideClaim(existing, sameOrder, input);
      if (decision.kind === 'answer') return decision.result;
      const record = existing ? takenOver(existing, input) : newClaim(input);
      if (existing) sql.run('takeover', { owner: record.owner, leaseUntil: record.leaseUntil, now: record.updatedAt, token: record.token });
      else sql.run('insert', { ...toRow(record) });
      return claimed(record, decision);
    });
  }

  async markVerified(token: string, owner: string, input: VerifiedInput): Promise<MarkVerifiedResult> {
    const values = { token, owner, transactionId: input.transactionId, khalti: jsonText(input.khalti), now: input.now };
    return this.#write((sql) => {
      try {
        return sql.run('verify', values) === 1 ? 'verified' : 'not_owner';
      } catch (error) {
        if (!SQLITE.isUniqueViolation(error)) throw error;
        // The unique index says another token already paid this order: keep this payment for a refund.
        return sql.run('unfulfillable', { ...values, failureCode: 'order_already_paid' }) === 1 ? 'order_conflict' : 'not_owner';
      }
    });
  }

  async markFulfilled(token: string, owner: string, response: unknown, now: number): Promise<boolean> {
    return this.#write((sql) => sql.run('fulfil', { token, owner, response: jsonText(response), now }) === 1);
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
    return this.#write((sql) => sql.run('unfulfillable', values) === 1);
  }

  async markDeclined(token: string, owner: string, input: DeclinedInput): Promise<boolean> {
    const values = { token, owner, failureCode: input.failureCode, khalti: jsonText(input.khalti), now: input.now };
    return this.#write((sql) => sql.run('declined', values) === 1);
  }

  async release(token: string, owner: string): Promise<boolean> {
    return this.#write((sql) => sql.run('release', { token, owner }) === 1);
  }

  async endLease(token: string, owner: string, now: number): Promise<boolean> {
    return this.#write((sql) => sql.run('endLease', { token, owner, now }) === 1);
  }

  async get(token: string): Promise<PaymentRecord | null> {
    const row = await this.#read((sql) => sql.get('get', { token }));
    return row ? fromRow(row) : null;
  }

  async listStale(now: number, limit: number): Promise<PaymentRecord[]> {
    return (await this.#read((sql) => sql.all('stale', { now, limit }))).map(fromRow);
  }

  /** The refund methods' runner: reads straight from the file, writes through the group commit. */
  protected readonly runner: refunds.SqlRunner = {
    rows: (name, values) => this.#read((sql) => sql.all(name, values)),
    changes: (name, values) => this.#write((sql) => sql.run(name, values)),
  };

  async close(): Promise<void> {
    while (this.#queue.length > 0) this.#flush();
    await this.#wal?.close();
    this.#db?.close();
    this.#db = undefined;
    this.#statements = undefined;
    this.#wal = undefined;
  }
}
