// The typed error family: every failure the package can report, with its stable code and HTTP status.

/** Codes the verify endpoint can answer with (see the README's error table). */
export type VerifyErrorCode =
  | 'invalid_request'
  | 'request_too_large'
  | 'order_not_found'
  | 'amount_mismatch'
  | 'token_already_used'
  | 'order_already_paid'
  | 'verification_in_progress'
  | 'payment_rejected'
  | 'payment_not_completed'
  | 'gateway_error'
  | 'fulfilment_failed'
  | 'overloaded'
  | 'internal_error';

/** Codes `router.refund()` rejects with. */
export type RefundErrorCode = 'refund_not_allowed' | 'refund_too_large' | 'refund_in_progress' | 'refund_rejected' | 'refund_unknown';

/** Codes thrown at start-up by `khaltiVerifier()` or `new KhaltiClient()`. */
export type StartupErrorCode = 'invalid_option' | 'store_required';

export type KhaltiErrorCode = VerifyErrorCode | RefundErrorCode | StartupErrorCode;

interface CodeInfo {
  status: number;
  message: string;
}

/**
 * The contract table: default HTTP status and human message per code. Messages never reveal an
 * order's expected amount or whether an order exists.
 */
export const ERROR_CODES: Readonly<Record<KhaltiErrorCode, CodeInfo>> = Object.freeze({
  invalid_request: { status: 400, message: 'The request body is not a valid payment verification request.' },
  request_too_large: { status: 413, message: 'The request body is too large.' },
  order_not_found: { status: 404, message: 'No such order.' },
  amount_mismatch: { status: 409, message: 'The amount does not match the order.' },
  token_already_used: { status: 409, message: 'This payment has already been used for another order.' },
  order_already_paid: { status: 409, message: 'This order has already been paid with another payment.' },
  verification_in_progress: { status: 409, message: 'This payment is being verified right now; retry shortly.' },
  payment_rejected: { status: 402, message: 'Khalti did not accept this payment.' },
  payment_not_completed: { status: 402, message: 'Khalti reports this payment as not completed.' },
  gateway_error: { status: 502, message: 'Khalti could not be reached or gave an unusable answer; retry shortly.' },
  fulfilment_failed: { status: 500, message: 'The payment is verified but the order could not be fulfilled yet; retry shortly.' },
  overloaded: { status: 503, message: 'Too many payments are being verified right now; retry shortly.' },
  internal_error: { status: 500, message: 'The payment could not be verified because of a server error; retry shortly.' },
  refund_not_allowed: { status: 409, message: 'This payment cannot be refunded: it is not a settled payment Khalti confirmed.' },
  refund_too_large: { status: 409, message: 'The refund is more than what is left to refund of this payment.' },
  refund_in_progress: { status: 409, message: 'Another refund of this payment is being made or waits to be resolved; retry later.' },
  refund_rejected: { status: 402, message: 'Khalti did not make the refund.' },
  refund_unknown: {
    status: 502,
    message: 'Khalti gave no usable answer to the refund; it is kept pending and resolved from Khalti’s state, never sent again.',
  },
  invalid_option: { status: 500, message: 'khalti-express was given an invalid option.' },
  store_required: { status: 500, message: 'khalti-express needs a `store` in production.' },
});

const BRAND = Symbol.for('khalti-express.KhaltiError');

export interface KhaltiErrorInit {
  message?: string;
  statusCode?: number;
  /** Field names (never values) for `invalid_request`. */
  details?: string[];
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  /** A sanitized cause; never an axios error (its config holds the Authorization header). */
  cause?: unknown;
}

/** The one error class of the package: a stable `code`, an HTTP `statusCode` and a safe message. */
export class KhaltiError extends Error {
  readonly code: KhaltiErrorCode;
  readonly statusCode: number;
  readonly details?: string[];
  readonly retryAfter?: number;

  constructor(code: KhaltiErrorCode, init: KhaltiErrorInit = {}) {
    const info = ERROR_CODES[code];
    super(init.message ?? info.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'KhaltiError';
    this.code = code;
    this.statusCode = init.statusCode ?? info.status;
    if (init.details !== undefined) this.details = init.details;
    if (init.retryAfter !== undefined) this.retryAfter = init.retryAfter;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** True for any KhaltiError, even one from another copy of this package (checks a brand, not `instanceof`). */
export function isKhaltiError(value: unknown): value is KhaltiError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
