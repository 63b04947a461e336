// MemoryStore: the process-local ledger, for development, tests and single-process demos.

import type {
  BeginRefundInput,
  BeginRefundResult,
  ClaimInput,
  ClaimResult,
  DeclinedInput,
  FinishRefundInput,
  LedgerStore,
  LedgerTotals,
  ListPage,
  ListQuery,
  MarkVerifiedResult,
  PaymentRecord,
  PaymentState,
  VerifiedInput,
} from './store';
import { checkCountQuery, checkListQuery, orderPage, pageOf } from './listing';
import { ListingIndex } from './listing-index';
import { copy, toBytes } from './memory-records';
import * as refunds from './memory-refunds';
import { OrderIndex } from './order-index';
import { claimed, decideClaim, FINAL_STATES, newClaim, owesRefund, PAID_STATES, takenOver } from './rules';

/** Records a MemoryStore holds before it evicts settled ones. Defaults `maxRecords`. */
export const DEFAULT_MEMORY_MAX_RECORDS = 100_000;

export interface MemoryStoreOptions {
  /**
   * The most records kept. At the cap, the oldest settled (fulfilled, unfulfillable or declined) records are
   * evicted, with one warning: an evicted token is forgotten, so it could be replayed for another order.
   * With nothing settled to evict, new claims fail (`internal_error`). Defaults to `100000`.
   */
  maxRecords?: number;
  /** Where the eviction warning goes. Defaults to `console.warn`. */
  warn?: (message: string) => void;
}

/**
 * A ledger held in this process's memory. Every method runs synchronously inside one tick, so each is
 * atomic within the process. It forgets everything on restart, is not shared between instances, and
 * is bounded (`maxRecords`): use a durable store in production.
 */
export class MemoryStore implements LedgerStore {
  readonly maxRecords: number;
  readonly #byToken = new Map<string, PaymentRecord>();
  readonly #orders = new OrderIndex();
  readonly #listing = new ListingIndex();
  readonly #warn: (message: string) => void;
  #warned = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxRecords = options.maxRecords ?? DEFAULT_MEMORY_MAX_RECORDS;
    if (!Number.isSafeInteger(this.maxRecords) || this.maxRecords < 1)
      throw new Error('MemoryStore: `maxRecords` must be a positive whole number');
    this.#warn = options.warn ?? ((message) => console.warn(message));
  }

  async claim(input: ClaimInput): Promise<ClaimResult> {
    const existing = this.#byToken.get(input.token) ?? null;
    const sameOrder = this.#orders.tokensOf(input.orderId).flatMap((token) => this.#byToken.get(token) ?? []);
    const decision = decideClaim(existing, sameOrder, input);
    if (decision.kind === 'answer') return { ...decision.result, record: copy(decision.result.record) };
    if (!existing) this.#makeRoom();
    const record = existing ? Object.assign(existing, takenOver(existing, input)) : newClaim(input);
    if (!existing) {
      this.#byToken.set(record.token, record);
      this.#orders.add(record.orderId, record.token);
      this.#listing.add(record);
    }
    return claimed(copy(record), decision);
  }

  async markVerified(token: string, owner: string, input: VerifiedInput): Promise<MarkVerifiedResult> {
    const record = this.#owned(token, owner, 'claimed');
    if (!record) return 'not_owner';
    const paidElsewhere = this.#orders
      .tokensOf(record.orderId)
      .some((other) => other !== token && PAID_STATES.has(this.#byToken.get(other)?.state ?? ''));
    Object.assign(record, { transactionId: input.transactionId, khalti: toBytes(input.khalti), updatedAt: input.now });
    if (paidElsewhere) {
      this.#move(record, { state: 'unfulfillable', failureCode: 'order_already_paid', owner: null, leaseUntil: 0 });
      return 'order_conflict';
    }
    this.#move(record, { state: 'verified' });
    return 'verified';
  }

  async markFulfilled(token: string, owner: string, response: unknown, now: number): Promise<boolean> {
    return this.#settle(token, owner, 'verified', { state: 'fulfilled', response: toBytes(response), updatedAt: now });
  }

  async markUnfulfillable(token: string, owner: string, input: VerifiedInput & { failureCode: string }): Promise<boolean> {
    const { failureCode, transactionId, khalti, now } = input;
    return this.#settle(token, owner, 'claimed', {
      state: 'unfulfillable',
      failureCode,
      transactionId,
      khalti: toBytes(khalti),
      updatedAt: now,
    });
  }

  async markDeclined(token: string, owner: string, input: DeclinedInput): Promise<boolean> {
    const { failureCode, khalti, now } = input;
    return this.#settle(token, owner, 'claimed', { state: 'declined', failureCode, khalti: toBytes(khalti), updatedAt: now });
  }

  /** `from` → a final state, if `owner` holds the record; ends the lease. */
  #settle(token: string, owner: string, from: PaymentState, change: Partial<PaymentRecord> & { state: PaymentState }): boolean {
    const record = this.#owned(token, owner, from);
    if (!record) return false;
    this.#move(record, { ...change, owner: null, leaseUntil: 0 });
    return true;
  }

  async release(token: string, owner: string): Promise<boolean> {
    const record = this.#owned(token, owner, 'claimed');
    if (!record) return false;
    this.#forget(record);
    return true;
  }

  #forget(record: PaymentRecord): void {
    this.#byToken.delete(record.token);
    this.#orders.remove(record.orderId, record.token);
    this.#listing.remove(record);
  }

  /** Apply `change` (which sets a new state) and keep the listing index in step. */
  #move(record: PaymentRecord, change: Partial<PaymentRecord> & { state: PaymentState }): void {
    const from = record.state;
    Object.assign(record, change);
    this.#listing.moved(record, from);
  }

  /** At the cap, evict the oldest settled record (Map order is insertion order), or refuse. */
  #makeRoom(): void {
    if (this.#byToken.size < this.maxRecords) return;
    for (const record of this.#byToken.values()) {
      if (!FINAL_STATES.has(record.state) || record.refund !== null) continue;
      if (!this.#warned) {
        this.#warned = true;
        this.#warn(
          `khalti-express: MemoryStore reached maxRecords (${this.maxRecords}) and now evicts its oldest settled payments; ` +
            'an evicted token could be used again. Use a durable store (SqliteStore, PostgresStore, RedisStore).',
        );
      }
      this.#forget(record);
      return;
    }
    throw new Error(`MemoryStore is full: ${this.maxRecords} payments are in flight or unsettled`);
  }

  async endLease(token: string, owner: string, now: number): Promise<boolean> {
    const record = this.#byToken.get(token);
    if (!record || record.owner !== owner || (record.state !== 'claimed' && record.state !== 'verified')) return false;
    Object.assign(record, { owner: null, leaseUntil: 0, updatedAt: now });
    return true;
  }

  async get(token: string): Promise<PaymentRecord | null> {
    const record = this.#byToken.get(token);
    return record ? copy(record) : null;
  }

  async listStale(now: number, limit: number): Promise<PaymentRecord[]> {
    return this.#oldest(
      (r) => (r.state === 'claimed' || r.state === 'verified') && r.leaseUntil <= now,
      (r) => r.createdAt,
      limit,
    );
  }

  /** Up to `limit` copies of the records that `keep`, smallest `by` first (a scan: reconcile's lists are short). */
  #oldest(keep: (record: PaymentRecord) => boolean, by: (record: PaymentRecord) => number, limit: number): PaymentRecord[] {
    return [...this.#byToken.values()]
      .filter(keep)
      .sort((a, b) => by(a) - by(b))
      .slice(0, limit)
      .map(copy);
  }

  async beginRefund(token: string, input: BeginRefundInput): Promise<BeginRefundResult> {
    return refunds.begin(this.#byToken.get(token) ?? null, input);
  }

  async finishRefund(token: string, refundId: string, owner: string, input: FinishRefundInput): Promise<boolean> {
    const record = this.#byToken.get(token);
    const added = record ? refunds.finish(record, refundId, owner, input) : null;
    if (added !== null) this.#listing.refunded(record!.state, added);
    return added !== null;
  }

  async endRefundLease(token: string, refundId: string, owner: string, now: number): Promise<boolean> {
    const record = this.#byToken.get(token);
    return record !== undefined && refunds.endLease(record, refundId, owner, now);
  }

  async takeRefund(token: string, refundId: string, owner: string, now: number, leaseMs: number): Promise<boolean> {
    const record = this.#byToken.get(token);
    return record !== undefined && refunds.take(record, refundId, owner, now, leaseMs);
  }

  async listPendingRefunds(now: number, limit: number): Promise<PaymentRecord[]> {
    return this.#oldest(
      (r) => r.refund !== null && r.refund.leaseUntil <= now,
      (r) => r.refund!.requestedAt,
      limit,
    );
  }

  async listOwedRefunds(limit: number): Promise<PaymentRecord[]> {
    return this.#oldest(owesRefund, (r) => r.createdAt, limit);
  }

  async list(query: ListQuery): Promise<ListPage> {
    const { state, orderId, after, limit } = checkListQuery(query);
    if (orderId === undefined) return pageOf(this.#listing.page(state, after, limit + 1).map(copy), limit);
    const records = this.#orders.tokensOf(orderId).flatMap((token) => this.#byToken.get(token) ?? []);
    return orderPage(records.map(copy), state, after, limit);
  }

  async count(query?: { state?: PaymentState }): Promise<number> {
    return this.#listing.count(checkCountQuery(query));
  }

  async totals(): Promise<LedgerTotals> {
    return this.#listing.totals();
  }

  /** How many records the store holds. */
  get size(): number {
    return this.#byToken.size;
  }

  async close(): Promise<void> {}

  #owned(token: string, owner: string, state: PaymentRecord['state']): PaymentRecord | undefined {
    const record = this.#byToken.get(token);
    return record && record.owner === owner && record.state === state ? record : undefined;
  }
}
