// The ePayment (KPG-2) API and its hosted page: initiate and lookup behind `Key` auth, and the page's
// two form posts (pay, cancel), which send the customer back to `return_url`.

import type { SandboxContext } from './context';
import { initiateBody, initiateErrors, lookupReply, returnUrl, type SandboxEpayment } from './epayment';
import { epaymentPage } from './epayment-page';
import { first, html, json, type Body, type Query, type Reply } from './http';
import { TEST_OTP } from './payments';

export function epaymentInitiate(context: SandboxContext, body: Body): Reply {
  const errors = initiateErrors(body);
  if (errors) return json(400, { ...errors, error_key: 'validation_error' });
  return json(200, initiateBody(context.epayments.create(body), context.baseUrl));
}

export function epaymentLookup(context: SandboxContext, pidx: string): Reply {
  const { httpStatus, body } = lookupReply(context.epayments.get(pidx));
  return json(httpStatus, body);
}

/** The hosted page (`GET /epayment/`) and its posts; `undefined` for anything else under `/epayment/`. */
export function hostedPage(context: SandboxContext, method: string, path: string, query: Query, body: Body | null): Reply | undefined {
  const redirect = (payment: SandboxEpayment): Reply => ({ status: 302, body: '', headers: { Location: returnUrl(payment) } });
  const pidx = String((method === 'GET' ? first(query.pidx) : body?.pidx) ?? '');
  const payment = context.epayments.get(pidx);
  if (path === '/epayment/' && method === 'GET') return payment ? html(200, epaymentPage(payment)) : html(404, 'No such payment.');
  if (!payment || method !== 'POST') return undefined;
  const payable = payment.status === 'Initiated' || payment.status === 'Pending';
  if (path === '/epayment/cancel') {
    if (payable) payment.status = 'User canceled';
    return redirect(payment);
  }
  if (path === '/epayment/pay') {
    if (!payable) return redirect(payment);
    const mobile = String(body?.mobile ?? '');
    const login = context.book.checkPin(mobile, String(body?.pin ?? ''));
    if (!login.ok) return html(400, epaymentPage(payment, `Mobile or pin invalid. Attempts Remaining: ${login.triesRemaining}`));
    if (body?.otp !== TEST_OTP) return html(400, epaymentPage(payment, 'Invalid confirmation code.'));
    context.epayments.complete(payment, mobile);
    return redirect(payment);
  }
  return undefined;
}
