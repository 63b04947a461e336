// MemoryStore's listing index: every record, and the records of each state, kept sorted oldest first
// (new claims are appended, nearly always at the end), plus running totals per state, so a page or the
// summary never scans the whole store.

import { emptyTotals, newestFirst, type CursorPosition } from './listing';
import type { LedgerTotals, PaymentRecord, PaymentState } from './store';

/** Index of the first entry of `sorted` (oldest first) that is not older than `position`. */
function lowerBound(sorted: readonly PaymentRecord[], position: CursorPosition): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (newestFirst(sorted[mid]!, position) > 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

function insert(sorted: PaymentRecord[], record: PaymentRecord): void {
  const at = lowerBound(sorted, record);
  if (at === sorted.length) sorted.push(record);
  else sorted.splice(at, 0, record);
}

function remove(sorted: PaymentRecord[], record: PaymentRecord): void {
  const at = lowerBound(sorted, record);
  if (sorted[at] === record) sorted.splice(at, 1);
}

export class ListingIndex {
  readonly #all: PaymentRecord[] = [];
  readonly #byState = new Map<PaymentState, PaymentRecord[]>();
  readonly #totals: LedgerTotals = emptyTotals();

  #ofState(state: PaymentState): PaymentRecord[] {
    let sorted = this.#byState.get(state);
    if (!sorted) this.#byState.set(state, (sorted = []));
    return sorted;
  }

  /** A new record, in its current state. */
  add(record: PaymentRecord): void {
    insert(this.#all, record);
    this.#enter(record, record.state);
  }

  /** A record leaving the store (released or evicted), from `state`. */
  remove(record: PaymentRecord, state: PaymentState = record.state): void {
    remove(this.#all, record);
    this.#leave(record, state);
  }

  /** A record that went from `from` to its current state. */
  moved(record: PaymentRecord, from: PaymentState): void {
    if (from === record.state) return;
    this.#leave(record, from);
    this.#enter(record, record.state);
  }

  /** `amount` more refunded of a record in `state`. */
  refunded(state: PaymentState, amount: number): void {
    this.#totals[state].refunded += amount;
  }

  #enter(record: PaymentRecord, state: PaymentState): void {
    insert(this.#ofState(state), record);
    const totals = this.#totals[state];
    totals.count += 1;
    totals.amount += record.amount;
    totals.refunded += record.refundedTotal;
  }

  #leave(record: PaymentRecord, state: PaymentState): void {
    remove(this.#ofState(state), record);
    const totals = this.#totals[state];
    totals.count -= 1;
    totals.amount -= record.amount;
    totals.refunded -= record.refundedTotal;
  }

  /** Up to `limit` records after `after`, newest first. */
  page(state: PaymentState | undefined, after: CursorPosition | null, limit: number): PaymentRecord[] {
    const sorted = state === undefined ? this.#all : this.#ofState(state);
    let at = after === null ? sorted.length : lowerBound(sorted, after);
    const out: PaymentRecord[] = [];
    while (at > 0 && out.length < limit) out.push(sorted[(at -= 1)]!);
    return out;
  }

  count(state?: PaymentState): number {
    return state === undefined ? this.#all.length : this.#totals[state].count;
  }

  totals(): LedgerTotals {
    return structuredClone(this.#totals);
  }
}
