// MemoryStore: the process-local ledger, for development, tests and single-process demos.

import type {
  BeginRefundInput,
  BeginRefundResult,
  ClaimInput,
  ClaimResult,
  DeclinedInput,
  FinishRefundInput,
  LedgerStore,
  MarkVerifiedResult,
  PaymentRecord,
  VerifiedInput,
} from './store';
import { OrderIndex } from './order-index';
import { claimed, decideClaim, decideRefund, FINAL_STATES, newClaim, owesRefund, PAID_STATES, settledRefund, takenOver } from './rules';

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
    }
    return claimed(copy(record), decision);
  }

  async markVerified(token: string, owner: string, input: VerifiedInput): Promise<MarkVerifiedResult> {
    const record = this.#owned(token, owner, 'claimed');
    if (!record) return 'not_owner';
    const paidElsewhere = this.#orders
      .tokensOf(record.orderId)
      .some((other) => other !== token && PAID_STATES.has(this.#byToken.get(other)?.state ?? ''));
    Object.assign(record, { transactionId: input.transactionId, khalti: toText(input.khalti), updatedAt: input.now });
    if (paidElsewhere) {
      Object.assign(record, { state: 'unfulfillable', failureCode: 'order_already_paid', owner: null, leaseUntil: 0 });
      return 'order_conflict';
    }
    record.state = 'verified';
    return 'verified';
  }

  async markFulfilled(token: string, owner: string, response: unknown, now: number): Promise<boolean> {
    const record = this.#owned(token, owner, 'verified');
    if (!record) return false;
    Object.assign(record, { state: 'fulfilled', response: toText(response), owner: null, leaseUntil: 0, updatedAt: now });
    return true;
  }

  async markUnfulfillable(token: string, owner: string, input: VerifiedInput & { failureCode: string }): Promise<boolean> {
    const record = this.#owned(token, owner, 'claimed');
    if (!record) return false;
    Object.assign(record, {
      state: 'unfulfillable',
      failureCode: input.failureCode,
      transactionId: input.transactionId,
      khalti: toText(input.khalti),
      owner: null,
      leaseUntil: 0,
      updatedAt: input.now,
    });
    return true;
  }

  async markDeclined(token: string, owner: string, input: DeclinedInput): Promise<boolean> {
    const record = this.#owned(token, owner, 'claimed');
    if (!record) return false;
    Object.assign(record, {
      state: 'declined',
      failureCode: input.failureCode,
      khalti: toText(input.khalti),
      owner: null,
      leaseUntil: 0,
      updatedAt: input.now,
    });
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
    return [...this.#byToken.values()]
      .filter((r) => (r.state === 'claimed' || r.state === 'verified') && r.leaseUntil <= now)
      .sort((a, b) => a.createdAt - b.createdAt)
      .slice(0, limit)
      .map(copy);
  }

  async beginRefund(token: string, input: BeginRefundInput): Promise<BeginRefundResult> {
    const record = this.#byToken.get(token) ?? null;
    const decision = decideRefund(record, input);
    if (decision.kind === 'answer')
      return decision.result.record ? { ...decision.result, record: copy(decision.result.record) } : decision.result;
    Object.assign(record!, { refund: decision.intent, updatedAt: input.now });
    return { status: 'begun', record: copy(record!) };
  }

  async finishRefund(token: string, refundId: string, owner: string, input: FinishRefundInput): Promise<boolean> {
    const record = this.#refunding(token, refundId, owner);
    if (!record) return false;
    Object.assign(record, settledRefund(record, input.outcome, input.now), { updatedAt: input.now });
    return true;
  }

  async endRefundLease(token: string, refundId: string, owner: string, now: number): Promise<boolean> {
    const record = this.#refunding(token, refundId, owner);
    if (!record) return false;
    Object.assign(record, { refund: { ...record.refund!, owner: null, leaseUntil: 0 }, updatedAt: now });
    return true;
  }

  async takeRefund(token: string, refundId: string, owner: string, now: number, leaseMs: number): Promise<boolean> {
    const record = this.#byToken.get(token);
    if (!record || record.refund?.id !== refundId || record.refund.leaseUntil > now) return false;
    Object.assign(record, { refund: { ...record.refund, owner, leaseUntil: now + leaseMs }, updatedAt: now });
    return true;
  }

  async listPendingRefunds(now: number, limit: number): Promise<PaymentRecord[]> {
    return [...this.#byToken.values()]
      .filter((r) => r.refund !== null && r.refund.leaseUntil <= now)
      .sort((a, b) => a.refund!.requestedAt - b.refund!.requestedAt)
      .slice(0, limit)
      .map(copy);
  }

  async listOwedRefunds(limit: number): Promise<PaymentRecord[]> {
    return [...this.#byToken.values()]
      .filter(owesRefund)
      .sort((a, b) => a.createdAt - b.createdAt)
      .slice(0, limit)
      .map(copy);
  }

  #refunding(token: string, refundId: string, owner: string): PaymentRecord | undefined {
    const record = this.#byToken.get(token);
    return record?.refund?.id === refundId && record.refund.owner === owner ? record : undefined;
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

/**
 * Held records keep `khalti` and `response` as JSON text, as every durable store does: no caller can
 * mutate it, and the garbage collector has one string to skip instead of an object graph to walk on
 * every collection (which, with tens of thousands of records held, costs throughput).
 */
function toText(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

/** A caller's copy of a held record: its own object, with the JSON fields parsed afresh. */
function copy(record: PaymentRecord): PaymentRecord {
  return {
    ...record,
    khalti: typeof record.khalti === 'string' ? JSON.parse(record.khalti) : null,
    response: typeof record.response === 'string' ? JSON.parse(record.response) : null,
    refund: record.refund ? { ...record.refund } : null,
    refunds: record.refunds.map((entry) => ({ ...entry })),
  };
}
