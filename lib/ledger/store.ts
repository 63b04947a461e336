// The ledger store interface: the one place that binds a Khalti payment to one order, once.

/**
 * Where a payment is in its life.
 * - `claimed`: a request holds (or held) the token and is asking Khalti. If its lease expired, the
 *   Khalti outcome is unknown: whoever takes it over must ask Khalti's status API first.
 * - `verified`: Khalti confirmed the payment; `onVerified` has not finished yet.
 * - `fulfilled`: `onVerified` finished; `response` holds the 200 body replayed to retries.
 * - `unfulfillable`: Khalti confirmed the payment but it must not fulfil the order (the order was
 *   already paid with another token, or Khalti's amount differs). It needs a refund; `failureCode`
 *   says why, and is answered to every retry.
 * - `declined`: an ePayment `pidx` Khalti definitely did not take (expired, canceled, refunded, or a pidx
 *   Khalti does not know). Final; kept as the shop's proof that it issued the pidx, and `failureCode`
 *   is answered to every retry. (A widget token Khalti declined is released instead: it is free again.)
 */
export type PaymentState = 'claimed' | 'verified' | 'fulfilled' | 'unfulfillable' | 'declined';

export interface PaymentRecord {
  /** The record's key: a widget payment token, or `pidx:<pidx>` for an ePayment payment. */
  token: string;
  orderId: string;
  /** Paisa. */
  amount: number;
  state: PaymentState;
  /** Who holds the lease (an id unique per verification attempt), or `null` when no one does. */
  owner: string | null;
  /** Epoch ms when the lease ends; `0` when no one holds it. */
  leaseUntil: number;
  /** Khalti's `idx`, or `null` when unknown (confirmed through the status API only). */
  transactionId: string | null;
  /** Khalti's answer that confirmed the payment (JSON), or `null`. */
  khalti: unknown;
  /** The 200 body answered when fulfilled (JSON), or `null`. */
  response: unknown;
  /** For `unfulfillable`: the error code answered. */
  failureCode: string | null;
  /** Paisa refunded so far (refunds Khalti confirmed). Never more than `amount`. */
  refundedTotal: number;
  /**
   * The refund being made, or one of unknown outcome waiting to be resolved; `null` when none. At most
   * one per payment: while it is here, no other refund of the payment starts.
   */
  refund: PendingRefund | null;
  /** Refunds settled, oldest first: what Khalti confirmed or refused. */
  refunds: RefundEntry[];
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms. */
  updatedAt: number;
}

/**
 * A refund's intent, recorded before Khalti is asked. While its lease is live its owner is posting it;
 * once the lease ended (`owner` null, or a crash) its outcome is unknown, and it is resolved by reading
 * Khalti's state, never by posting again.
 */
export interface PendingRefund {
  /** A fresh id per refund. */
  id: string;
  /** Paisa. */
  amount: number;
  /** The Khalti ID sent for a bank payment, or `null`. */
  mobile: string | null;
  owner: string | null;
  /** Epoch ms when the lease ends; `0` once the outcome is unknown. */
  leaseUntil: number;
  /** Epoch ms when the intent was recorded. */
  requestedAt: number;
}

/** A settled refund: Khalti made it (`refunded`) or refused it (`rejected`). */
export interface RefundEntry {
  id: string;
  amount: number;
  outcome: 'refunded' | 'rejected';
  /** Epoch ms. */
  at: number;
}

export interface BeginRefundInput {
  id: string;
  /** Paisa; omitted = everything not refunded yet. */
  amount?: number;
  mobile: string | null;
  owner: string;
  now: number;
  leaseMs: number;
}

/**
 * The answer of `beginRefund`:
 * - `begun`: the intent is recorded (see `record.refund`); post it now.
 * - `not_found`: no record for the key.
 * - `not_refundable`: not `fulfilled` or `unfulfillable`, or no Khalti transaction id.
 * - `in_progress`: another refund of this payment is pending (being made, or of unknown outcome).
 * - `too_large`: more than what is left to refund (nothing left, for an omitted amount).
 */
export type BeginRefundResult =
  | { status: 'begun'; record: PaymentRecord }
  | { status: 'not_found'; record: null }
  | { status: 'not_refundable' | 'in_progress' | 'too_large'; record: PaymentRecord };

export interface FinishRefundInput {
  outcome: 'refunded' | 'rejected';
  now: number;
}

/** What `list` returns: newest first (`createdAt`, then key, descending). */
export interface ListQuery {
  /** Only records in this state. */
  state?: PaymentState;
  /** Only the records of this order (every token and pidx tried for it). */
  orderId?: string;
  /** The `next` cursor of the page before; omitted for the first page. */
  before?: string | null;
  /** Records per page, 1 to 1000. */
  limit: number;
}

export interface ListPage {
  records: PaymentRecord[];
  /** The cursor of the next page (pass it as `before`), or `null` when this page is the last. */
  next: string | null;
}

/** One state's share of the ledger. */
export interface StateTotals {
  count: number;
  /** Paisa: the sum of the records' amounts. */
  amount: number;
  /** Paisa: the sum of their refunded totals. */
  refunded: number;
}

export type LedgerTotals = Record<PaymentState, StateTotals>;

export interface ClaimInput {
  token: string;
  orderId: string;
  amount: number;
  /** A fresh id for this attempt. */
  owner: string;
  /** Epoch ms "now", given by the caller so every store agrees on one clock. */
  now: number;
  leaseMs: number;
  /**
   * Claim even when another token already paid the order (no `order_conflict`). For an ePayment pidx,
   * whose money is captured on Khalti's page and not by our call: it must still be looked up, and if
   * Khalti says it is paid, `markVerified` then records it `unfulfillable` (`order_already_paid`).
   */
  evenIfOrderPaid?: boolean;
}

/**
 * The answer of `claim`:
 * - `claimed`: the caller now holds the lease. `record.state` tells where a taken-over record was
 *   (`claimed` with `takenOver: true` = Khalti's answer was never recorded; `verified` = run
 *   fulfilment again).
 * - `fulfilled` / `unfulfillable` / `declined`: final; nothing changed.
 * - `busy`: another attempt holds a live lease on this token or on another token of this order.
 * - `token_conflict`: the token is bound to another order.
 * - `order_conflict`: the order is already paid (verified or fulfilled) with another token.
 */
export type ClaimResult =
  | { status: 'claimed'; record: PaymentRecord; takenOver: boolean }
  | { status: 'fulfilled' | 'unfulfillable' | 'declined' | 'busy' | 'token_conflict' | 'order_conflict'; record: PaymentRecord };

export interface VerifiedInput {
  transactionId: string | null;
  khalti: unknown;
  now: number;
}

/**
 * The answer of `markVerified`: `verified`; `order_conflict` when another token of the same order
 * is already verified or fulfilled (the record then becomes `unfulfillable` with code
 * `order_already_paid`); `not_owner` when the caller's lease was taken over (nothing changed).
 */
export interface DeclinedInput {
  /** The error code answered for it, such as `payment_not_completed`. */
  failureCode: string;
  /** Khalti's answer that declined it (JSON), or `null`. */
  khalti: unknown;
  now: number;
}

export type MarkVerifiedResult = 'verified' | 'order_conflict' | 'not_owner';

/**
 * A ledger store. Every method must be atomic on its own: two processes calling `claim` for the same
 * token (or for two tokens of one order) at the same instant must never both win. Transitions only
 * apply while `owner` still holds the record (same owner), and return `false` otherwise.
 */
export interface LedgerStore {
  /** Claim `token` for `orderId`, or say why not. Never throws for a conflict. */
  claim(input: ClaimInput): Promise<ClaimResult>;
  /** `claimed` → `verified` (keeps the lease), unless the order is paid by another token. */
  markVerified(token: string, owner: string, input: VerifiedInput): Promise<MarkVerifiedResult>;
  /** `verified` → `fulfilled`, storing the 200 body; ends the lease. */
  markFulfilled(token: string, owner: string, response: unknown, now: number): Promise<boolean>;
  /** `claimed` → `unfulfillable` with `failureCode` (Khalti confirmed a payment we must not fulfil). */
  markUnfulfillable(token: string, owner: string, input: VerifiedInput & { failureCode: string }): Promise<boolean>;
  /** Delete a `claimed` record: Khalti definitely did not take this payment, so the token is free again. */
  release(token: string, owner: string): Promise<boolean>;
  /** `claimed` → `declined` with `failureCode`, ending the lease (an ePayment Khalti definitely did not take). */
  markDeclined(token: string, owner: string, input: DeclinedInput): Promise<boolean>;
  /** End the lease but keep the record (outcome unknown, or fulfilment failed): the next attempt takes over. */
  endLease(token: string, owner: string, now: number): Promise<boolean>;
  /** The record for `token`, or `null`. */
  get(token: string): Promise<PaymentRecord | null>;
  /** Up to `limit` `claimed`/`verified` records whose lease ended by `now`, oldest first (for reconcile). */
  listStale(now: number, limit: number): Promise<PaymentRecord[]>;
  /** Record a refund's intent, atomically with every other refund call for the same key. */
  beginRefund(token: string, input: BeginRefundInput): Promise<BeginRefundResult>;
  /**
   * Settle the pending refund `refundId` held by `owner`: `refunded` adds its amount to `refundedTotal`;
   * either way it joins `refunds` and the intent is cleared.
   */
  finishRefund(token: string, refundId: string, owner: string, input: FinishRefundInput): Promise<boolean>;
  /** The outcome of refund `refundId` is unknown: keep the intent, end its lease (to be resolved later). */
  endRefundLease(token: string, refundId: string, owner: string, now: number): Promise<boolean>;
  /** Take over pending refund `refundId` whose lease ended, to resolve it (reconcile). */
  takeRefund(token: string, refundId: string, owner: string, now: number, leaseMs: number): Promise<boolean>;
  /** Up to `limit` records whose pending refund's lease ended by `now`, oldest intent first. */
  listPendingRefunds(now: number, limit: number): Promise<PaymentRecord[]>;
  /**
   * Up to `limit` `unfulfillable` records with a Khalti transaction id that no refund was ever tried
   * for (none pending, none settled), oldest first: what `refundUnfulfillable` refunds.
   */
  listOwedRefunds(limit: number): Promise<PaymentRecord[]>;
  /** A page of records, newest first, filtered by state and order; indexed (no full scan per page). */
  list(query: ListQuery): Promise<ListPage>;
  /** How many records there are (in `state`, when given). */
  count(query?: { state?: PaymentState }): Promise<number>;
  /** Count, amount and refunded total per state: the operator's summary. */
  totals(): Promise<LedgerTotals>;
  /** Release connections and timers. Optional. */
  close?(): Promise<void>;
}
