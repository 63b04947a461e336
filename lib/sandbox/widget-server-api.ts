// The widget flow's server API, as Khalti answers it: verify (POST) and status (GET), behind `Key` auth.

import type { SandboxContext } from './context';
import type { Fault } from './faults';
import { first, json, type Body, type Reply } from './http';
import { statusBody, transactionRecord, type SandboxPayment } from './payments';

const INVALID_TOKEN = json(400, { token: ['Invalid token.'] });

/** `undefined` when the `Authorization` header carries the sandbox's secret key; else Khalti's 401. */
export function authorize(context: SandboxContext, header: string | undefined): Reply | undefined {
  if (header === undefined || !header.startsWith('Key ')) {
    return json(401, { detail: 'Authentication credentials were not provided.', status_code: 401 });
  }
  if (header.slice(4) !== context.secretKey) return json(401, { detail: 'Invalid token.', status_code: 401 });
  return undefined;
}

export function verify(context: SandboxContext, body: Body, fault: Fault | undefined): Reply {
  const invalid = tokenAndAmountErrors(body);
  if (invalid) return json(400, invalid);
  const payment = paymentFor(context, String(body.token), Number(body.amount));
  if (!payment || payment.amount !== Number(body.amount)) return INVALID_TOKEN;
  payment.verifyCalls += 1;
  if (payment.state === 'Completed' && context.alreadyVerified === 'invalid_token') return INVALID_TOKEN;
  if (payment.state === 'Confirmed') payment.state = 'Completed';
  if (fault?.kind === 'refunded' && payment.state === 'Completed') payment.state = 'Refunded';
  const reported = fault?.kind === 'wrong_amount' ? (fault.amount ?? payment.amount + 100) : payment.amount;
  return json(200, transactionRecord(payment, reported));
}

export function status(context: SandboxContext, query: Body): Reply {
  const invalid = tokenAndAmountErrors(query);
  if (invalid) return json(400, invalid);
  const payment = paymentFor(context, String(query.token), Number(query.amount));
  const { httpStatus, body } = statusBody(payment && payment.amount === Number(query.amount) ? payment : undefined);
  return json(httpStatus, body);
}

/** The payment behind `token`; in throughput mode a `bench_` token is paid on first sight. */
function paymentFor(context: SandboxContext, token: string, amount: number): SandboxPayment | undefined {
  return (
    context.book.get(token) ??
    (context.autoPay && token.startsWith('bench_') && Number.isSafeInteger(amount) && amount > 0
      ? context.book.create({ amount, token })
      : undefined)
  );
}

/** Khalti's field errors for a token/amount pair, or `undefined` when both are usable. */
function tokenAndAmountErrors(fields: Body): Record<string, string[]> | undefined {
  const errors: Record<string, string[]> = {};
  const token = first(fields.token as string | string[] | undefined);
  if (typeof token !== 'string' || token === '') errors.token = ['This field is required.'];
  const amount = fields.amount;
  const valid = typeof amount === 'number' ? Number.isSafeInteger(amount) : typeof amount === 'string' && /^\d+$/.test(amount);
  if (!valid) errors.amount = [amount === undefined || amount === '' ? 'This field is required.' : 'A valid integer is required.'];
  return Object.keys(errors).length > 0 ? errors : undefined;
}
