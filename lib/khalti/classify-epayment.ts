// Khalti ePayment (KPG-2) answers → typed outcomes: initiate and lookup. Pure functions, no I/O.

import { authFailure, isServerTrouble, parseObject, type AuthFailed, type RawResponse, type Unavailable } from './classify';

/** What `POST /api/v2/epayment/initiate/` takes (snake_case, as Khalti names the fields). */
export interface EpaymentInitiateRequest {
  return_url: string;
  website_url: string;
  /** Paisa. */
  amount: number;
  purchase_order_id: string;
  purchase_order_name: string;
  customer_info?: { name?: string; email?: string; phone?: string };
  amount_breakdown?: Array<{ label: string; amount: number }>;
  product_details?: Array<Record<string, unknown>>;
  [merchantExtra: `merchant_${string}`]: unknown;
}

export type InitiateOutcome =
  | {
      kind: 'initiated';
      pidx: string;
      paymentUrl: string;
      expiresAt: string | null;
      expiresIn: number | null;
      body: Record<string, unknown>;
    }
  /** Khalti refused the request's fields: `fields` maps each field to Khalti's messages. */
  | { kind: 'invalid'; httpStatus: number; fields: Record<string, string[]>; body: Record<string, unknown> | null }
  | AuthFailed
  | Unavailable;

/**
 * Lookup statuses, normalized (Khalti spells "Partially Refunded" two ways): `completed` fulfils;
 * `pending`, `initiated` and `unknown` hold; `expired`, `user_canceled` fail; `refunded` and
 * `partially_refunded` never fulfil.
 */
export type LookupStatus =
  'completed' | 'pending' | 'initiated' | 'refunded' | 'partially_refunded' | 'expired' | 'user_canceled' | 'unknown';

export type LookupOutcome =
  | {
      kind: 'status';
      status: LookupStatus;
      /** Paisa, when Khalti gave a whole number. */
      totalAmount: number | null;
      transactionId: string | null;
      refunded: boolean;
      body: Record<string, unknown>;
    }
  /** No such pidx (`{"detail": "Not found.", …}`). */
  | { kind: 'not_found'; httpStatus: number; body: Record<string, unknown> | null }
  | AuthFailed
  | Unavailable;

const STATUSES: Readonly<Record<string, LookupStatus>> = {
  completed: 'completed',
  pending: 'pending',
  initiated: 'initiated',
  refunded: 'refunded',
  'partially refunded': 'partially_refunded',
  expired: 'expired',
  'user canceled': 'user_canceled',
  'user cancelled': 'user_canceled',
};

/** Khalti's status string → ours, case- and spacing-insensitively; anything new is `unknown` (hold). */
export function normalizeLookupStatus(value: unknown): LookupStatus {
  if (typeof value !== 'string') return 'unknown';
  return (
    STATUSES[
      value
        .trim()
        .toLowerCase()
        .replace(/[\s_]+/g, ' ')
    ] ?? 'unknown'
  );
}

/** Field messages of a validation error body: every `field: [messages]` entry. */
function fieldErrors(body: Record<string, unknown> | null): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(body ?? {})) {
    if (Array.isArray(value) && value.every((m) => typeof m === 'string')) fields[key] = value as string[];
    else if (key === 'detail' && typeof value === 'string') fields.detail = [value];
  }
  return fields;
}

export function classifyInitiate(response: RawResponse): InitiateOutcome {
  const body = parseObject(response.text);
  const auth = authFailure(response, body);
  if (auth) return auth;
  if (isServerTrouble(response.status)) return { kind: 'unavailable', reason: 'server_error', httpStatus: response.status };
  if (response.status >= 400) return { kind: 'invalid', httpStatus: response.status, fields: fieldErrors(body), body };
  const { pidx, payment_url: paymentUrl, expires_at: expiresAt, expires_in: expiresIn } = body ?? {};
  if (
    response.status !== 200 ||
    typeof pidx !== 'string' ||
    pidx === '' ||
    typeof paymentUrl !== 'string' ||
    !/^https?:\/\//.test(paymentUrl)
  ) {
    return { kind: 'unavailable', reason: 'bad_response', httpStatus: response.status };
  }
  return {
    kind: 'initiated',
    pidx,
    paymentUrl,
    expiresAt: typeof expiresAt === 'string' ? expiresAt : null,
    expiresIn: typeof expiresIn === 'number' ? expiresIn : null,
    body: body!,
  };
}

/** Khalti's answer for a pidx it does not know: `{"detail": "Not found.", "error_key": "validation_error"}`. */
function isNotFoundBody(body: Record<string, unknown> | null): boolean {
  return typeof body?.detail === 'string' && /^not found\.?$/i.test(body.detail.trim());
}

/** A 400 from lookup can still be a valid status body (Expired, User canceled): parse it first. */
export function classifyLookup(response: RawResponse): LookupOutcome {
  const body = parseObject(response.text);
  const auth = authFailure(response, body);
  if (auth) return auth;
  if (isServerTrouble(response.status)) return { kind: 'unavailable', reason: 'server_error', httpStatus: response.status };
  if (body !== null && typeof body.status === 'string' && typeof body.pidx === 'string') {
    const totalAmount = Number.isSafeInteger(body.total_amount) ? (body.total_amount as number) : null;
    const transactionId = typeof body.transaction_id === 'string' && body.transaction_id !== '' ? body.transaction_id : null;
    return {
      kind: 'status',
      status: normalizeLookupStatus(body.status),
      totalAmount,
      transactionId,
      refunded: body.refunded === true,
      body,
    };
  }
  // Only Khalti's own JSON "Not found." body means "no such pidx". An HTML 404 from a proxy or a bad
  // deploy, or any other error body, is no decision about the payment: outcome unknown.
  if (response.status >= 400 && isNotFoundBody(body)) return { kind: 'not_found', httpStatus: response.status, body };
  return { kind: 'unavailable', reason: 'bad_response', httpStatus: response.status };
}
