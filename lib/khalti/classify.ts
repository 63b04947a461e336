// Khalti's HTTP answers → typed outcomes. Pure functions: no I/O, no amounts compared here.

/** Why a Khalti call gave no usable answer. Each of these means "outcome unknown". */
export type UnavailableReason = 'timeout' | 'network' | 'server_error' | 'bad_response';

/** Khalti could not be asked, or its answer cannot be trusted either way. */
export interface Unavailable {
  kind: 'unavailable';
  reason: UnavailableReason;
  /** HTTP status when there was one. */
  httpStatus?: number;
}

/** Khalti rejected *our secret key* (HTTP 401): a configuration error, not the customer's fault. */
export interface AuthFailed {
  kind: 'auth_failed';
  httpStatus: number;
  detail: string | null;
}

export type VerifyOutcome =
  /** HTTP 200, `idx` present, state Completed, not refunded. The amount is still to be compared. */
  | { kind: 'completed'; transactionId: string; amount: number; body: Record<string, unknown> }
  /** Khalti knows the payment and says Completed, but it is refunded. */
  | { kind: 'not_completed'; state: string | null; refunded: boolean; body: Record<string, unknown> }
  /** Khalti says the token/amount is not a valid payment (4xx other than 401). */
  | { kind: 'rejected'; httpStatus: number; body: Record<string, unknown> | null }
  | AuthFailed
  | Unavailable;

/** States of `GET /api/v2/payment/status/`, spelled as Khalti spells them. */
export type PaymentStatusState = 'Complete' | 'Confirmed' | 'Initiated' | 'Failed' | 'Error' | 'Refunded' | 'Partially refunded';

const STATUS_STATES: readonly PaymentStatusState[] = [
  'Complete',
  'Confirmed',
  'Initiated',
  'Failed',
  'Error',
  'Refunded',
  'Partially refunded',
];

export type StatusOutcome = { kind: 'status'; state: PaymentStatusState; body: Record<string, unknown> } | AuthFailed | Unavailable;

/** A raw HTTP answer: status code and the body text (at most the client's size limit). */
export interface RawResponse {
  status: number;
  text: string;
}

/** Parse a JSON object body; anything else (HTML, arrays, garbage) is `null`. */
export function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** An HTTP 401/403 means Khalti refused our secret key: that outcome, else `undefined`. */
export function authFailure(response: RawResponse, body: Record<string, unknown> | null): AuthFailed | undefined {
  if (response.status !== 401 && response.status !== 403) return undefined;
  return { kind: 'auth_failed', httpStatus: response.status, detail: typeof body?.detail === 'string' ? body.detail : null };
}

/** Errors answered for server trouble, not a decision about this payment. */
export function isServerTrouble(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** Classify an answer of `POST /api/v2/payment/verify/`. Anything odd is `unavailable` (outcome unknown). */
export function classifyVerify(response: RawResponse): VerifyOutcome {
  const body = parseObject(response.text);
  const auth = authFailure(response, body);
  if (auth) return auth;
  if (isServerTrouble(response.status)) return { kind: 'unavailable', reason: 'server_error', httpStatus: response.status };
  if (response.status >= 400) return { kind: 'rejected', httpStatus: response.status, body };
  if (response.status !== 200 || body === null) {
    return { kind: 'unavailable', reason: 'bad_response', httpStatus: response.status };
  }
  const state = body.state as Record<string, unknown> | null | undefined;
  const stateName = typeof state === 'object' && state !== null && typeof state.name === 'string' ? state.name : null;
  const { idx, amount, refunded } = body;
  if (!isNonEmptyString(idx) || stateName === null || typeof refunded !== 'boolean' || !Number.isSafeInteger(amount)) {
    return { kind: 'unavailable', reason: 'bad_response', httpStatus: response.status };
  }
  // Verify moves money: only a refund is a clear "no" here. A state other than Completed (in any case)
  // is unrecognised, not a decline: the status API decides (the odd-body path), and nothing is released.
  if (stateName.trim().toLowerCase() !== 'completed') return { kind: 'unavailable', reason: 'bad_response', httpStatus: response.status };
  if (refunded) return { kind: 'not_completed', state: stateName, refunded, body };
  return { kind: 'completed', transactionId: idx, amount: amount as number, body };
}

/** Classify an answer of `GET /api/v2/payment/status/`. A 4xx may carry a valid state body: parse first. */
export function classifyStatus(response: RawResponse): StatusOutcome {
  const body = parseObject(response.text);
  const auth = authFailure(response, body);
  if (auth) return auth;
  const state = STATUS_STATES.find((s) => s === body?.state);
  if (body !== null && state !== undefined && response.status < 500) return { kind: 'status', state, body };
  if (isServerTrouble(response.status)) return { kind: 'unavailable', reason: 'server_error', httpStatus: response.status };
  return { kind: 'unavailable', reason: 'bad_response', httpStatus: response.status };
}
