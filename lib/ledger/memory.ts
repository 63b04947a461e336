// MemoryStore: the process-local ledger, for development, tests and single-process demos.

import type {
  ClaimInput,
  ClaimResult,
  LedgerStore,
  MarkVerifiedResult,
  PaymentRecord,
  VerifiedInput,
} from './store';
import { claimed, decideClaim, newClaim, PAID_STATES, takenOver } from './rules';

/**
 * A ledger held in this process's memory. Every method runs synchronously inside one tick, so each is
 * atomic within the process. It forgets everything on restart and is not shared between instances:
 * use a durable store in production.
 */
export class MemoryStore implements LedgerStore {
  readonly #byToken = new Map<string, PaymentRecord>();
  readonly #tokensByOrder = new Map<string, Set<string>>();

  async claim(input: ClaimInput): Promise<ClaimResult> {
    const existing = this.#byToken.get(input.token) ?? null;
    const sameOrder = [...(this.#tokensByOrder.get(input.orderId) ?? [])].flatMap((token) => this.#byToken.get(token) ?? []);
    const decision = decideClaim(existing, sameOrder, input);
    if (decision.kind === 'answer') return { ...decision.result, record: copy(decision.result.record) };
    const record = existing ? Object.assign(existing, takenOver(existing, input)) : newClaim(input);
    if (!existing) {
      this.#byToken.set(record.token, record);
      let tokens = this.#tokensByOrder.get(record.orderId);
      if (!tokens) this.#tokensByOrder.set(record.orderId, (tokens = new Set()));
      tokens.add(record.token);
    }
    return claimed(copy(record), decision);
  }

  async markVerified(token: string, owner: string, input: VerifiedInput): Promise<MarkVerifiedResult> {
    const record = this.#owned(token, owner, 'claimed');
    if (!record) return 'not_owner';
    const paidElsewhere = [...(this.#tokensByOrder.get(record.orderId) ?? [])].some(
      (other) => other !== token && PAID_STATES.has(this.#byToken.get(other)?.state ?? ''),
    );
    Object.assign(record, { transactionId: input.transactionId, khalti: clone(input.khalti), updatedAt: input.now });
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
    Object.assign(record, { state: 'fulfilled', response: clone(response), owner: null, leaseUntil: 0, updatedAt: now });
    return true;
  }

  async markUnfulfillable(
    token: string,
    owner: string,
    input: VerifiedInput & { failureCode: string },
  ): Promise<boolean> {
    const record = this.#owned(token, owner, 'claimed');
    if (!record) return false;
    Object.assign(record, {
      state: 'unfulfillable',
      failureCode: input.failureCode,
      transactionId: input.transactionId,
      khalti: clone(input.khalti),
      owner: null,
      leaseUntil: 0,
      updatedAt: input.now,
    });
    return true;
  }

  async release(token: string, owner: string): Promise<boolean> {
    const record = this.#owned(token, owner, 'claimed');
    if (!record) return false;
    this.#byToken.delete(token);
    const tokens = this.#tokensByOrder.get(record.orderId);
    tokens?.delete(token);
    if (tokens?.size === 0) this.#tokensByOrder.delete(record.orderId);
    return true;
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

/** Stored values are JSON, as in every durable store: a JSON round trip is the honest copy. */
function clone<T>(value: T): T {
  return value === undefined ? (null as T) : (JSON.parse(JSON.stringify(value)) as T);
}

function copy(record: PaymentRecord): PaymentRecord {
  return clone(record);
}
