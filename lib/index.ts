// Public exports of khalti-express, grouped by what a user reaches for.

// Mount the endpoint.
export { khaltiVerifier, type KhaltiVerifierRouter } from './verifier';
export type {
  KhaltiVerifierOptions,
  EpaymentOptions,
  EpaymentOrderInfo,
  VerifiedPayment,
  VerificationFailure,
  Logger,
  SuccessBody,
  InitiateBody,
  ReconcileOptions,
  ReconcileSummary,
  RefundKey,
  RefundOptions,
  RefundReceipt,
  RefundedPayment,
  HandSettlement,
  HandSettled,
} from './types';
export {
  DEFAULT_PATH,
  DEFAULT_INITIATE_PATH,
  DEFAULT_RETURN_PATH,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MIN_AMOUNT,
  DEFAULT_BODY_LIMIT,
  DEFAULT_FULFILMENT_TIMEOUT_MS,
  DEFAULT_REFUND_SETTLE_MS,
} from './options';

// Handle and render its errors.
export {
  KhaltiError,
  isKhaltiError,
  ERROR_CODES,
  type KhaltiErrorCode,
  type VerifyErrorCode,
  type RefundErrorCode,
  type StartupErrorCode,
} from './errors';
export { renderError, sendError, type ErrorBody, type RenderedError } from './http/respond';

// Choose or write a ledger store (durable ones: khalti-express/stores/sqlite, /postgres, /redis).
export { MemoryStore, DEFAULT_MEMORY_MAX_RECORDS, type MemoryStoreOptions } from './ledger/memory';
export type {
  LedgerStore,
  PaymentRecord,
  PaymentState,
  ClaimInput,
  ClaimResult,
  VerifiedInput,
  DeclinedInput,
  PendingRefund,
  RefundEntry,
  BeginRefundInput,
  BeginRefundResult,
  FinishRefundInput,
  MarkVerifiedResult,
  ListQuery,
  ListPage,
  LedgerTotals,
  StateTotals,
} from './ledger/store';
export { runStoreConformance, type ConformanceOptions, type ConformanceRunner } from './ledger/conformance';

// Talk to Khalti directly, or swap the client (the `client` option).
export { KhaltiClient } from './khalti/client';
export { DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS, DEFAULT_RETRY_BASE_MS, type KhaltiClientOptions } from './khalti/options';
export type { KhaltiApi, CallOptions } from './khalti/api';
export type { VerifyOutcome, StatusOutcome, PaymentStatusState, UnavailableReason } from './khalti/classify';
export type { EpaymentInitiateRequest, InitiateOutcome, LookupOutcome, LookupStatus } from './khalti/classify-epayment';
export type { RefundOutcome, RefundRequest } from './khalti/classify-refund';

// Events on Node's diagnostics_channel (README "Events, metrics and traces").
export {
  PAYMENT_CHANNEL,
  KHALTI_CHANNEL,
  OVERLOADED_CHANNEL,
  RECONCILE_CHANNEL,
  type PaymentEvent,
  type KhaltiCallEvent,
  type KhaltiEndpoint,
  type OverloadedEvent,
  type ReconcileEvent,
} from './events';

// Money: rupees to paisa exactly, and paisa for people.
export { toPaisa, formatRupees, type FormatRupeesOptions } from './money';
