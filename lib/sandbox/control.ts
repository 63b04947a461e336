// The control API a test drives the sandbox with: create payments, read them back, move ePayments.

import type { SandboxContext } from './context';
import { initiateBody, returnUrl } from './epayment';
import type { KhaltiSandbox } from './types';

type Control = Omit<KhaltiSandbox, 'baseUrl' | 'secretKey' | 'publicKey' | 'requests' | 'faults' | 'close'>;

export function controlApi(context: SandboxContext): Control {
  const { book, epayments } = context;
  const epaymentOf = (pidx: string, method: string) => {
    const payment = epayments.get(pidx);
    if (!payment) throw new Error(`${method}(): no ePayment ${pidx}`);
    return payment;
  };
  return {
    pay(input) {
      if (!Number.isSafeInteger(input.amount) || input.amount <= 0)
        throw new Error('pay(): amount must be a positive whole number of paisa');
      const payment = book.create(input);
      return { token: payment.token, idx: payment.idx };
    },
    transaction(token) {
      const payment = book.get(token);
      return payment ? structuredClone(payment) : null;
    },
    completedTokens() {
      return book.tokensIn('Completed');
    },
    epay({
      amount,
      purchaseOrderId = 'sandbox-order',
      purchaseOrderName = 'Sandbox order',
      returnUrl: back = 'http://127.0.0.1/return',
      status,
    }) {
      const payment = epayments.create({
        amount,
        purchase_order_id: purchaseOrderId,
        purchase_order_name: purchaseOrderName,
        return_url: back,
        website_url: new URL(back).origin,
      });
      if (status === 'Completed') epayments.complete(payment, '9800000000');
      else if (status) payment.status = status;
      return { pidx: payment.pidx, paymentUrl: String(initiateBody(payment, context.baseUrl).payment_url) };
    },
    epayment(pidx) {
      const payment = epayments.get(pidx);
      return payment ? structuredClone(payment) : null;
    },
    setEpaymentStatus(pidx, status) {
      const payment = epaymentOf(pidx, 'setEpaymentStatus');
      if (status === 'Completed') epayments.complete(payment, payment.mobile ?? '9800000000');
      else payment.status = status;
    },
    returnUrlFor(pidx) {
      return returnUrl(epaymentOf(pidx, 'returnUrlFor'));
    },
    checkoutUrl({ amount, productIdentity, productName, productUrl }) {
      const params = new URLSearchParams({ amount: String(amount), product_identity: productIdentity });
      if (productName !== undefined) params.set('product_name', productName);
      if (productUrl !== undefined) params.set('product_url', productUrl);
      return `${context.baseUrl}/checkout?${params.toString()}`;
    },
  };
}
