// Every public type of khalti-express, each documented with its default: the ground floor, imported by all.

import type { Request } from 'express';
import type { VerifyErrorCode } from './errors';
import type { KhaltiApi } from './khalti/api';
import type { LedgerStore } from './ledger/store';
import type { RefundedPayment } from './types-refunds';

export type { RefundKey, RefundOptions, RefundReceipt, RefundedPayment, HandSettlement, HandSettled } from './types-refunds';

type MaybePromise<T> = T | Promise<T>;

/** What `onVerified` receives: a Khalti-confirmed, amount-matched, Completed, unrefunded payment. */
export interface VerifiedPayment {
  orderId: string;
  /** The widget's payment token; `null` for an ePayment payment (see `pidx`). */
  token: string | null;
  /** The ePayment `pidx`; absent for a widget payment. */
  pidx?: string;
  /** Paisa. */
  amount: number;
  /**
   * Khalti's `idx` (widget; `null` when only the status API could confirm the payment), or lookup's
   * `transaction_id` (ePayment).
   */
  transactionId: string | null;
  /** Khalti's response body that confirmed it. */
  khalti: unknown;
}

/** What `onFailed` receives. */
export interface VerificationFailure {
  code: VerifyErrorCode;
  message: string;
  orderId?: string;
  token?: string;
  /** The ePayment `pidx`, for an ePayment payment. */
  pidx?: string;
  /** Paisa, as posted (or, for ePayment, the order's price). */
  amount?: number;
  /** Paisa, from `expectedAmount`. */
  expectedAmount?: number;
  /** Khalti's response body, when Khalti answered. */
  khalti?: unknown;
}

/** Any logger with `warn` and `error` (`info`, `debug` used if present): console, pino, winston… */
export interface Logger {
  warn(message: string): void;
  error(message: string): void;
  info?(message: string): void;
  debug?(message: string): void;
}

/** The options of `khaltiVerifier()`. */
export interface KhaltiVerifierOptions<Req = Request> {
  /** Your Khalti secret key. Required; never printed. */
  secretKey: string;
  /**
   * The order's price in paisa, or `null`/`undefined` when there is no such order *or it is not this
   * customer's* (check ownership here). `req` is `undefined` when `reconcile()` settles a payment no
   * request is waiting for: then answer the order's price without a customer to check. Required.
   */
  expectedAmount: (orderId: string, req: Req | undefined) => MaybePromise<number | null | undefined>;
  /**
   * Fulfil the order. Called once per payment, after the payment is recorded as verified; if it throws
   * (or the process dies) it runs again on the next retry or `reconcile()`, so make it idempotent on
   * `token` (or `transactionId`). `req` is `undefined` when `reconcile()` fulfils a payment that no
   * request is waiting for. A plain object it returns is sent back as `data`. Required.
   */
  onVerified: (payment: VerifiedPayment, req: Req | undefined) => MaybePromise<unknown>;
  /**
   * Side effects of a failure (logging, metrics). Awaited; its errors are logged and ignored. Called once
   * per failure: requests that joined another's verification share it, and `req` is the one that ran it.
   * Defaults to none.
   */
  onFailed?: (failure: VerificationFailure, req: Req) => MaybePromise<void>;
  /** The ledger. Defaults to a new `MemoryStore` outside production; required when `NODE_ENV=production`. */
  store?: LedgerStore;
  /**
   * The Khalti API to use instead of the built-in `KhaltiClient` (a wrapper that traces, a fake in tests).
   * `baseUrl` then does not apply. Defaults to a `KhaltiClient` for `secretKey`, `baseUrl` and `timeoutMs`.
   */
  client?: KhaltiApi;
  /** Khalti's host. Defaults to `https://khalti.com`. */
  baseUrl?: string;
  /** Route path of the verify endpoint. Defaults to `/khalti/verify`. */
  path?: string;
  /** Timeout of each Khalti call, in ms. Defaults to `10000`. */
  timeoutMs?: number;
  /**
   * Concurrent verifications before new ones get `503 overloaded`, whose `Retry-After` (1–10 s) estimates
   * how long the waiting clients need to get a slot. Defaults to `256`.
   */
  maxInFlight?: number;
  /** Smallest accepted amount, in paisa. Defaults to `1000` (Khalti's minimum). */
  minAmount?: number;
  /** Largest accepted request body, in bytes. Defaults to `16384`. */
  bodyLimit?: number;
  /** Where the order id comes from. Defaults to `body.orderId`, else `body.product_identity`. */
  getOrderId?: (req: Req) => MaybePromise<unknown>;
  /** Where diagnostics go. Defaults to `console` (warn and error only). */
  logger?: Logger;
  /** How long a claim is held before another attempt may take it over, in ms. Defaults to `max(60000, 2 × (4 × timeoutMs + 3000))`. */
  leaseMs?: number;
  /**
   * How long `onVerified` may run before the request is answered `fulfilment_failed` and its
   * `maxInFlight` slot freed, in ms. The payment stays verified: if the hook finishes later its
   * fulfilment is recorded, else a retry or `reconcile()` runs it again once the lease ends.
   * Defaults to `15000`.
   */
  fulfilmentTimeoutMs?: number;
  /** Turn on Khalti ePayment (KPG-2) routes: `initiatePath` and `returnPath`. Defaults to off. */
  epayment?: EpaymentOptions<Req>;
  /**
   * Called once per refund Khalti confirmed (through `refund()` or when `reconcile()` resolves one), so
   * the shop can mark its order. Awaited; its errors are logged and ignored (the refund is made).
   * Defaults to none.
   */
  onRefunded?: (refund: RefundedPayment) => MaybePromise<void>;
  /** Let `reconcile()` refund every `unfulfillable` payment in full, once. Defaults to `false`. */
  refundUnfulfillable?: boolean;
  /**
   * How long after a refund of unknown outcome Khalti's state may be read as "not refunded", in ms
   * (Khalti may show a refund with a delay; until then the refund stays pending). Defaults to `60000`.
   */
  refundSettleMs?: number;
  /**
   * OpenTelemetry spans (`@opentelemetry/api`, an optional peer): one per verification attempt and a child
   * per Khalti call, no token in any URL or attribute. Defaults to `false`.
   */
  tracing?: boolean;
}

/** What `epayment.orderInfo` may add to the initiate request. */
export interface EpaymentOrderInfo {
  /** Defaults to `Order <orderId>`. */
  purchaseOrderName?: string;
  /** Defaults to none. */
  customerInfo?: { name?: string; email?: string; phone?: string };
  /** Must add up to the order's amount (Khalti checks). Defaults to none. */
  amountBreakdown?: Array<{ label: string; amount: number }>;
  /** Defaults to none. */
  productDetails?: Array<Record<string, unknown>>;
}

/** Khalti ePayment (KPG-2): initiate on the server, redirect, look up on return. */
export interface EpaymentOptions<Req = Request> {
  /** Where Khalti sends the customer back: your `returnPath` on your public origin. Required. */
  returnUrl: string;
  /** Your shop's website. Required. */
  websiteUrl: string;
  /** Where `returnPath` redirects after a fulfilled payment (encode the order id). Required. */
  successUrl: (orderId: string) => string;
  /**
   * Where `returnPath` redirects after anything else; `orderId` is `''` when the pidx is missing or not
   * one this shop issued (the query's `purchase_order_id` is never trusted). Required.
   */
  failureUrl: (orderId: string, code: string) => string;
  /** Name, customer and breakdown for Khalti's payment page. Defaults to none. */
  orderInfo?: (orderId: string, req: Req) => MaybePromise<EpaymentOrderInfo>;
  /**
   * Further origins `successUrl` / `failureUrl` may send the customer to, such as
   * `https://checkout.shop.example`. A target must otherwise be a path or URL on the origin of
   * `returnUrl` or `websiteUrl`: an order id in a URL can make it point anywhere (`//evil.example`).
   * Defaults to none.
   */
  redirectOrigins?: string[];
  /** Defaults to `/khalti/initiate`. */
  initiatePath?: string;
  /** Defaults to `/khalti/return`. */
  returnPath?: string;
}

/** The 200 body of a verification (`POST /khalti/verify`, and what the return route settled). */
export interface SuccessBody {
  ok: true;
  orderId: string;
  /** The ePayment `pidx`, for an ePayment payment. */
  pidx?: string;
  /** Paisa. */
  amount: number;
  transactionId: string | null;
  /** `true` for a retry of a payment already fulfilled (or one that joined another request's verification). */
  replayed: boolean;
  /** What `onVerified` returned, when it is a plain JSON object. */
  data?: Record<string, unknown>;
}

/** The 200 body of the ePayment initiate route. */
export interface InitiateBody {
  ok: true;
  orderId: string;
  pidx: string;
  /** Khalti's payment page: send the customer there. */
  paymentUrl: string;
  /** When the link expires (Khalti's `expires_at`), or `null` when Khalti did not say. */
  expiresAt: string | null;
}

export interface ReconcileOptions {
  /** At most how many stale records to handle in this call, oldest first. Defaults to all of them. */
  limit?: number;
}

/** What `reconcile()` did. */
export interface ReconcileSummary {
  /** Payments fulfilled by this call. */
  fulfilled: number;
  /** Records Khalti said no to: widget tokens released, ePayments declined. */
  released: number;
  /**
   * Records still unsettled (Khalti unreachable, `onVerified` failed again, no price) or found
   * unfulfillable on this call: each is logged, and an unsettled one is tried again next time.
   */
  unsettled: number;
  /**
   * Refunds: pending ones of unknown outcome `resolved` from Khalti's state, those still `pending`,
   * and `unfulfillable` payments `refunded` by this call (with `refundUnfulfillable`).
   */
  refunds: { resolved: number; pending: number; refunded: number };
}
