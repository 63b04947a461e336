// The widget flow's client API, which the browser calls: initiate (wallet login), confirm (OTP), banks.

import type { SandboxContext } from './context';
import { json, type Body, type Reply } from './http';
import { TEST_OTP } from './payments';

const BANKS = [
  { idx: 'sandboxbank1AAAAAAAAAAA', name: 'Sandbox Bank', short_name: 'SBX', logo: '' },
  { idx: 'sandboxbank2AAAAAAAAAAA', name: 'Loopback Bank', short_name: 'LBK', logo: '' },
];

const invalidPublicKey = (): Reply => json(400, { public_key: ['Invalid public key.'], error_key: 'validation_error' });

export function initiate(context: SandboxContext, body: Body): Reply {
  if (body.public_key !== context.publicKey) return invalidPublicKey();
  const amount = Number(body.amount);
  if (!Number.isSafeInteger(amount) || amount < 1000) {
    return json(400, { amount: ['Amount should be greater than Rs. 10, that is 1000 paisa.'], error_key: 'validation_error' });
  }
  const mobile = String(body.mobile ?? '');
  const pin = String(body.transaction_pin ?? '');
  if (!/^9[678]\d{8}$/.test(mobile)) return json(400, { mobile: ['Enter a valid mobile number.'], error_key: 'validation_error' });
  if (!/^\d{4}$/.test(pin)) return json(400, { transaction_pin: ['Enter a valid PIN.'], error_key: 'validation_error' });
  const login = context.book.checkPin(mobile, pin);
  if (!login.ok) {
    return json(400, { detail: 'Mobile or pin invalid.', tries_remaining: String(login.triesRemaining), error_key: 'validation_error' });
  }
  const merchantExtras = Object.fromEntries(Object.entries(body).filter(([key]) => key.startsWith('merchant_')));
  const payment = context.book.create({
    amount,
    state: 'Initiated',
    mobile,
    productIdentity: String(body.product_identity ?? ''),
    productName: String(body.product_name ?? ''),
    productUrl: String(body.product_url ?? ''),
    merchantExtras,
  });
  return json(200, { token: payment.token });
}

export function confirm(context: SandboxContext, body: Body): Reply {
  if (body.public_key !== context.publicKey) return invalidPublicKey();
  const payment = context.book.get(String(body.token ?? ''));
  if (!payment || payment.state !== 'Initiated') return json(400, { detail: 'Invalid token.', error_key: 'validation_error' });
  if (body.confirmation_code !== TEST_OTP) {
    return json(400, { confirmation_code: ['Invalid confirmation code.'], error_key: 'validation_error' });
  }
  payment.state = 'Confirmed';
  return json(200, {
    idx: payment.idx,
    token: payment.token,
    amount: payment.amount,
    mobile: payment.mobile,
    product_identity: payment.productIdentity,
    product_name: payment.productName,
    product_url: payment.productUrl,
    ...payment.merchantExtras,
  });
}

export function banks(): Reply {
  const page = {
    total_pages: 1,
    total_records: BANKS.length,
    next: null,
    previous: null,
    record_range: [1, BANKS.length],
    current_page: 1,
  };
  return json(200, { ...page, records: BANKS });
}
