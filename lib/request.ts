// The verify request body: its joi schema and the typed VerifyRequest it becomes.

import Joi from 'joi';

/** A Khalti payment token as we accept it. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** An order id: 1–128 characters, none of them a control character. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const ORDER_ID_PATTERN = /^[^\u0000-\u001f\u007f-\u009f]{1,128}$/;
/** Half of a UTF-16 surrogate pair without its other half: ill-formed text, which databases store as U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * An order id as we accept it: a string of 1–128 characters, no control character, and well-formed
 * UTF-16 (SQLite and PostgreSQL would store a lone surrogate as U+FFFD: two ids, one order).
 */
export function isOrderId(value: unknown): value is string {
  return typeof value === 'string' && ORDER_ID_PATTERN.test(value) && !LONE_SURROGATE.test(value);
}

/** What `getOrderId` may answer: a string, or `null`/`undefined` for "this request has none". Anything else is the app's bug. */
export function isOrderIdAnswer(value: unknown): value is string | null | undefined {
  return typeof value === 'string' || value === null || value === undefined;
}

/** Paisa as a form post sends it: digits only. */
const DIGITS = /^[0-9]{1,16}$/;

/** A validated verification request. */
export interface VerifyRequest {
  token: string;
  /** Paisa. */
  amount: number;
  orderId: string;
}

/** An ePayment verification: a `pidx` the shop issued, for an order. */
export interface PidxRequest {
  pidx: string;
  orderId: string;
}

export type ParseResult = { ok: true; value: VerifyRequest | PidxRequest } | { ok: false; details: string[] };

/** Marker for "the app did not supply an order id": the body's `orderId`/`product_identity` is used. */
export const FROM_BODY = Symbol('orderId from body');

const orderIdSchema = Joi.string().pattern(ORDER_ID_PATTERN).pattern(LONE_SURROGATE, { invert: true });

/** Build the body parser for one verifier (its schema is compiled once, here). */
export function createRequestParser(minAmount: number): (body: unknown, orderId: unknown) => ParseResult {
  const amountSchema = Joi.any().custom((value: unknown) => {
    const paisa = typeof value === 'string' && DIGITS.test(value) ? Number(value) : value;
    if (typeof paisa !== 'number' || !Number.isSafeInteger(paisa) || paisa < minAmount) throw new Error('invalid');
    return paisa;
  });
  const bodySchema = Joi.object({
    token: Joi.string().pattern(TOKEN_PATTERN).required(),
    amount: amountSchema.required(),
    orderId: orderIdSchema,
    product_identity: Joi.any(),
  }).unknown(true);

  const pidxSchema = Joi.object({
    pidx: Joi.string().pattern(TOKEN_PATTERN).required(),
    orderId: orderIdSchema,
    product_identity: Joi.any(),
  }).unknown(true);

  return (body, suppliedOrderId) => {
    // An ePayment body carries a pidx and no widget token.
    const isPidx = typeof body === 'object' && body !== null && 'pidx' in body && !('token' in body);
    const { error, value } = (isPidx ? pidxSchema : bodySchema).validate(body ?? {}, { abortEarly: false, convert: false });
    const details = new Set(error?.details.map((d) => String(d.path[0] ?? 'body')) ?? []);
    let orderId = suppliedOrderId;
    if (orderId === FROM_BODY) {
      const fields = (value ?? {}) as Record<string, unknown>;
      orderId = fields.orderId !== undefined ? fields.orderId : fields.product_identity;
    }
    if (orderIdSchema.required().validate(orderId).error) details.add('orderId');
    if (details.size > 0) return { ok: false, details: [...details].sort() };
    if (isPidx) return { ok: true, value: { pidx: (value as { pidx: string }).pidx, orderId: orderId as string } };
    const fields = value as { token: string; amount: number };
    return { ok: true, value: { token: fields.token, amount: fields.amount, orderId: orderId as string } };
  };
}
