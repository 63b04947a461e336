// MysqlStore: the ledger in MySQL 8.0+ or MariaDB 10.11+ (mysql2), for shops that already run one.

import { createHash } from 'node:crypto';
import mysql from 'mysql2/promise';
import type {
  ClaimInput,
  ClaimResult,
  DeclinedInput,
  LedgerStore,
  MarkVerifiedResult,
  PaymentRecord,
  VerifiedInput,
} from '../ledger/store';
import { claimUntilSettled, writeClaim } from './sql/claim-transaction';
import { MYSQL } from './sql/mysql-dialect';
import { MYSQL_TABLE_NAME, mysqlSchema } from './sql/mysql-schema';
import type * as refunds from './sql/refunds';
import { SqlLedger } from './sql/sql-ledger';
import { fromRow, jsonText, type PaymentRow } from './sql/rows';
import { bind, ledgerStatements, type LedgerStatements, type StatementName } from './sql/statements';

export { mysqlSchema };

export interface MysqlStoreOptions {
  /** A `mysql2/promise` pool to use (the store never ends it). Give this or `uri`. */
  pool?: mysql.Pool;
  /** A `mysql://` URL; the store makes its own pool and ends it on `close()`. */
  uri?: string;
  /** Table name. Defaults to `khalti_payments`. */
  table?: string;
}

/** How long a claim waits for another claim of the same order, in seconds. */
const ORDER_LOCK_WAIT_S = 10;

type Runner = mysql.Pool | mysql.PoolConnection;

/**
 * A ledger in MySQL or MariaDB (InnoDB). A claim holds a named lock per order (`GET_LOCK`, so claims of
 * one order are serialized across instances without gap locks on rows that do not exist yet) around one
 * READ COMMITTED transaction; the token's row is inserted under its primary key (a racing insert of the
 * same token is re-run). "One paid token per order" is a unique index on a generated column, so the
 * database itself refuses a second one. Creates its table on first use.
 */
export class MysqlStore extends SqlLedger implements LedgerStore {
  readonly table: string;
  readonly #pool: mysql.Pool;
  readonly #ownsPool: boolean;
  readonly #sql: LedgerStatements;
  #ready: Promise<void> | undefined;
  #closed = false;

  constructor(options: MysqlStoreOptions) {
    super();
    if (!options?.pool && !options?.uri) throw new Error('MysqlStore: give `pool` or `uri`');
    this.table = options.table ?? 'khalti_payments';
    if (!MYSQL_TABLE_NAME.test(this.table)) throw new Error(`MysqlStore: invalid table name ${JSON.stringify(this.table)}`);
    this.#sql = ledgerStatements(this.table, MYSQL);
    this.#ownsPool = !options.pool;
    this.#pool = options.pool ?? mysql.createPool({ uri: options.uri!, connectionLimit: 10, supportBigNumbers: true });
  }

  /** Create the table if it is missing; safe when several instances start at once (a named lock). */
  async migrate(): Promise<void> {
    await this.#migrate();
    this.#ready = Promise.resolve();
  }

  async #migrate(): Promise<void> {
    const connection = await this.#pool.getConnection();
    const lock = this.#lockName('migrate');
    try {
      await this.#lock(connection, lock, 30);
      try {
        await connection.query(mysqlSchema(this.table));
      } finally {
        await connection.query('SELECT RELEASE_LOCK(?)', [lock]);
      }
    } finally {
      connection.release();
    }
  }

  #ensure(): Promise<void> {
    this.#ready ??= this.#migrate().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /** A lock name within MySQL's 64 characters, whatever the table and order id. */
  #lockName(what: string): string {
    return `khx:${createHash('sha256').update(`${this.table}\u0000${what}`).digest('base64url').slice(0, 40)}`;
  }

  async #lock(connection: mysql.PoolConnection, name: string, waitSeconds: number): Promise<void> {
    const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS got', [name, waitSeconds]);
    if (Number(rows[0]?.got) !== 1) throw new Error('MysqlStore: timed out waiting for a lock held by another claim');
  }

  async #rows(name: StatementName, values: Record<string, unknown>, on?: Runner): Promise<PaymentRow[]> {
    const statement = this.#sql[name];
    if (!on) await this.#ensure();
    const [rows] = await (on ?? this.#pool).query<mysql.RowDataPacket[]>(statement.text, bind(statement, values));
    return rows as unknown as PaymentRow[];
  }

  async #changes(name: StatementName, values: Record<string, unknown>, on?: Runner): Promise<number> {
    const statement = this.#sql[name];
    if (!on) await this.#ensure();
    const [result] = await (on ?? this.#pool).query<mysql.ResultSetHeader>(statement.text, bind(statement, values));
    return result.affectedRows;
  }

  async claim(input: ClaimInput): Promise<ClaimResult> {
    await this.#ensure();
    return claimUntilSettled('MysqlStore', () => this.#claimOnce(input));
  }

  async #claimOnce(input: ClaimInput): Promise<ClaimResult | 'raced'> {
    const connection = await this.#pool.getConnection();
    const lock = this.#lockName(`order\u0000${input.orderId}`);
    try {
      await this.#lock(connection, lock, ORDER_LOCK_WAIT_S);
      try {
        await connection.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
        await connection.beginTransaction();
        try {
          const [mine] = await connection.query<mysql.RowDataPacket[]>(`${this.#sql.get.text} FOR UPDATE`, [input.token]);
          const existing = mine[0] ? fromRow(mine[0] as unknown as PaymentRow) : null;
          const sameOrder = (await this.#rows('byOrder', { orderId: input.orderId }, connection)).map(fromRow);
          const result = await writeClaim((name, values) => this.#changes(name, values, connection), existing, sameOrder, input);
          await (result === 'raced' ? connection.rollback() : connection.commit());
          return result;
        } catch (error) {
          await connection.rollback().catch(() => undefined);
          throw error;
        }
      } finally {
        await connection.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => undefined);
      }
    } finally {
      connection.release();
    }
  }

  async markVerified(token: string, owner: string, input: VerifiedInput): Promise<MarkVerifiedResult> {
    const values = { token, owner, transactionId: input.transactionId, khalti: jsonText(input.khalti), now: input.now };
    try {
      return (await this.#changes('verify', values)) === 1 ? 'verified' : 'not_owner';
    } catch (error) {
      if (!MYSQL.isUniqueViolation(error)) throw error;
      // The unique index says another token already paid this order: keep this payment for a refund.
      return (await this.#changes('unfulfillable', { ...values, failureCode: 'order_already_paid' })) === 1
        ? 'order_conflict'
        : 'not_owner';
    }
  }

  async markFulfilled(token: string, owner: string, response: unknown, now: number): Promise<boolean> {
    return (await this.#changes('fulfil', { token, owner, response: jsonText(response), now })) === 1;
  }

  async markUnfulfillable(token: string, owner: string, input: VerifiedInput & { failureCode: string }): Promise<boolean> {
    const { failureCode, transactionId, now } = input;
    return (await this.#changes('unfulfillable', { token, owner, failureCode, transactionId, khalti: jsonText(input.khalti), now })) === 1;
  }

  async markDeclined(token: string, owner: string, input: DeclinedInput): Promise<boolean> {
    return (
      (await this.#changes('declined', {
        token,
        owner,
        failureCode: input.failureCode,
        khalti: jsonText(input.khalti),
        now: input.now,
      })) === 1
    );
  }

  async release(token: string, owner: string): Promise<boolean> {
    return (await this.#changes('release', { token, owner })) === 1;
  }

  async endLease(token: string, owner: string, now: number): Promise<boolean> {
    return (await this.#changes('endLease', { token, owner, now })) === 1;
  }

  async get(token: string): Promise<PaymentRecord | null> {
    const [row] = await this.#rows('get', { token });
    return row ? fromRow(row) : null;
  }

  async listStale(now: number, limit: number): Promise<PaymentRecord[]> {
    return (await this.#rows('stale', { now, limit })).map(fromRow);
  }

  protected readonly runner: refunds.SqlRunner = {
    rows: (name, values) => this.#rows(name, values),
    changes: (name, values) => this.#changes(name, values),
  };

  /** Ends the pool the store made (never one it was given); a second call does nothing. */
  async close(): Promise<void> {
    if (!this.#ownsPool || this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}
