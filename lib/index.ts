// Public exports of khalti-express.

export { khaltiVerifier, type KhaltiVerifierRouter } from './verifier';
export {
  type KhaltiVerifierOptions,
  type VerifiedPayment,
  type VerificationFailure,
  type Logger,
  DEFAULT_PATH,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MIN_AMOUNT,
  DEFAULT_BODY_LIMIT,
} from './options';
export { KhaltiError, isKhaltiError, ERROR_CODES, type KhaltiErrorCode, type VerifyErrorCode, type StartupErrorCode } from './errors';
export { renderError, sendError, type ErrorBody, type RenderedError } from './respond';
export { RECONCILE_BATCH, type SuccessBody, type ReconcileOptions, type ReconcileSummary } from './flow';
export { KhaltiClient, DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS, type KhaltiClientOptions, type CallOptions } from './khalti/client';
export type { VerifyOutcome, StatusOutcome, PaymentStatusState, UnavailableReason } from './khalti/classify';
export {
  normalizeLookupStatus,
  type EpaymentInitiateRequest,
  type InitiateOutcome,
  type LookupOutcome,
  type LookupStatus,
} from './khalti/classify-epayment';
export { MemoryStore, DEFAULT_MEMORY_MAX_RECORDS, type MemoryStoreOptions } from './ledger/memory';
export type {
  LedgerStore,
  PaymentRecord,
  PaymentState,
  ClaimInput,
  ClaimResult,
  VerifiedInput,
  MarkVerifiedResult,
} from './ledger/store';
export { runStoreConformance, type ConformanceRunner } from './ledger/conformance';
