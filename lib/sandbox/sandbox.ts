// createKhaltiSandbox(): a local Khalti on loopback — server API, client API, checkout page, faults.

import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import { checkoutPage } from './checkout-page';
import { EpaymentBook, initiateBody, initiateErrors, lookupReply, returnUrl, type EpaymentStatus, type SandboxEpayment } from './epayment';
import { epaymentPage } from './epayment-page';
import { SandboxFaults, type Endpoint, type Fault } from './faults';
import {
  khaltiKey,
  PaymentBook,
  statusBody,
  TEST_OTP,
  transactionRecord,
  type NewPayment,
  type SandboxPayment,
  type SandboxPaymentState,
} from './payments';

export interface KhaltiSandboxOptions {
  /** Port to listen on. Defaults to `0` (any free port). */
  port?: number;
  /** Host to listen on. Defaults to `127.0.0.1`. */
  host?: string;
  /** The secret key the server API accepts. Defaults to a fresh `test_secret_key_<32 hex>`. */
  secretKey?: string;
  /** The public key the client API accepts. Defaults to a fresh `test_public_key_<32 hex>`. */
  publicKey?: string;
  /**
   * What verify answers for a token that is already verified — undocumented at Khalti, so both
   * plausible answers are here: `record` answers the Completed record again (200); `invalid_token`
   * answers `400 {"token": ["Invalid token."]}`. Defaults to `record`.
   */
  alreadyVerified?: 'record' | 'invalid_token';
  /**
   * Throughput mode, for load tests: a verify or status call for an unknown token that starts with
   * `bench_` creates that payment on the spot (state `Confirmed`, the amount asked), so a load
   * generator needs no pre-created tokens. Defaults to `false`.
   */
  autoPay?: boolean;
  /** Keep `requests` (every request's method, path, body). Turn off for long load tests. Defaults to `true`. */
  recordRequests?: boolean;
}

/** One request the sandbox received. The Authorization header is redacted. */
export interface SandboxRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  body: Record<string, unknown> | null;
  /** `Key [redacted]` when a `Key` header was sent, `[redacted]` for any other scheme, `null` when none. */
  authorization: string | null;
  at: number;
}

export interface KhaltiSandbox {
  /** Where the sandbox listens, e.g. `http://127.0.0.1:49152`: use it as `baseUrl`. */
  readonly baseUrl: string;
  readonly secretKey: string;
  readonly publicKey: string;
  /** Create a payment as the widget would (state `Confirmed` unless given). */
  pay(input: NewPayment): { token: string; idx: string };
  /** A copy of the payment behind `token`, or `null`. */
  transaction(token: string): SandboxPayment | null;
  /** Every token whose payment is `Completed` (verified): Khalti's own record, to audit a ledger against. */
  completedTokens(): string[];
  /** Create an ePayment as `epayment/initiate` would (status `Initiated` unless given). */
  epay(input: { amount: number; purchaseOrderId?: string; purchaseOrderName?: string; returnUrl?: string; status?: EpaymentStatus }): {
    pidx: string;
    paymentUrl: string;
  };
  /** A copy of the ePayment behind `pidx`, or `null`. */
  epayment(pidx: string): SandboxEpayment | null;
  /** Move an ePayment to another status (Pending, Refunded, Expired…); `Completed` gives it a transaction id. */
  setEpaymentStatus(pidx: string, status: EpaymentStatus): void;
  /** Where the hosted page would send the customer back now (`return_url` with Khalti's parameters). */
  returnUrlFor(pidx: string): string;
  /** The checkout page's URL for an amount and product. */
  checkoutUrl(params: { amount: number; productIdentity: string; productName?: string; productUrl?: string }): string;
  /** Every request received, oldest first. Clear it with `requests.length = 0`. */
  readonly requests: SandboxRequest[];
  readonly faults: SandboxFaults;
  /** Stop listening and drop every open connection (hung ones included). */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type, Authorization',
  'Access-Control-Max-Age': '600',
};
/** The widget's client API is called from browsers; the server API is not (as at Khalti: no CORS). */
const CLIENT_API = new Set(['/api/v2/payment/initiate/', '/api/v2/payment/confirm/', '/api/v2/bank/']);
const BANKS = [
  { idx: 'sandboxbank1AAAAAAAAAAA', name: 'Sandbox Bank', short_name: 'SBX', logo: '' },
  { idx: 'sandboxbank2AAAAAAAAAAA', name: 'Loopback Bank', short_name: 'LBK', logo: '' },
];

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const json = (status: number, body: unknown): Reply => ({ status, body });
const INVALID_TOKEN = json(400, { token: ['Invalid token.'] });

/** Start a sandbox. Resolves once it listens. */
export async function createKhaltiSandbox(options: KhaltiSandboxOptions = {}): Promise<KhaltiSandbox> {
  const secretKey = options.secretKey ?? khaltiKey('test_secret_key');
  const publicKey = options.publicKey ?? khaltiKey('test_public_key');
  const alreadyVerified = options.alreadyVerified ?? 'record';
  const recordRequests = options.recordRequests ?? true;
  /** The payment behind `token`; in throughput mode a `bench_` token is paid on first sight. */
  const paymentFor = (token: string, amount: number): SandboxPayment | undefined =>
    book.get(token) ??
    (options.autoPay && token.startsWith('bench_') && Number.isSafeInteger(amount) && amount > 0
      ? book.create({ amount, token })
      : undefined);
  const book = new PaymentBook();
  const epayments = new EpaymentBook();
  const faults = new SandboxFaults();
  const requests: SandboxRequest[] = [];
  const sockets = new Set<Socket>();

  function authorize(header: string | undefined): Reply | undefined {
    if (header === undefined || !header.startsWith('Key ')) {
      return json(401, { detail: 'Authentication credentials were not provided.', status_code: 401 });
    }
    if (header.slice(4) !== secretKey) return json(401, { detail: 'Invalid token.', status_code: 401 });
    return undefined;
  }

  function verify(body: Record<string, unknown>, fault: Fault | undefined): Reply {
    const invalid = tokenAndAmountErrors(body);
    if (invalid) return json(400, invalid);
    const payment = paymentFor(String(body.token), Number(body.amount));
    if (!payment || payment.amount !== Number(body.amount)) return INVALID_TOKEN;
    payment.verifyCalls += 1;
    if (payment.state === 'Completed' && alreadyVerified === 'invalid_token') return INVALID_TOKEN;
    if (payment.state === 'Confirmed') payment.state = 'Completed';
    if (fault?.kind === 'refunded' && payment.state === 'Completed') payment.state = 'Refunded';
    const reported = fault?.kind === 'wrong_amount' ? (fault.amount ?? payment.amount + 100) : payment.amount;
    return json(200, transactionRecord(payment, reported));
  }

  function status(query: Record<string, unknown>): Reply {
    const invalid = tokenAndAmountErrors(query);
    if (invalid) return json(400, invalid);
    const payment = paymentFor(String(query.token), Number(query.amount));
    const { httpStatus, body } = statusBody(payment && payment.amount === Number(query.amount) ? payment : undefined);
    return json(httpStatus, body);
  }

  function initiate(body: Record<string, unknown>): Reply {
    if (body.public_key !== publicKey) return json(400, { public_key: ['Invalid public key.'], error_key: 'validation_error' });
    const amount = Number(body.amount);
    if (!Number.isSafeInteger(amount) || amount < 1000) {
      return json(400, { amount: ['Amount should be greater than Rs. 10, that is 1000 paisa.'], error_key: 'validation_error' });
    }
    const mobile = String(body.mobile ?? '');
    const pin = String(body.transaction_pin ?? '');
    if (!/^9[678]\d{8}$/.test(mobile)) return json(400, { mobile: ['Enter a valid mobile number.'], error_key: 'validation_error' });
    if (!/^\d{4}$/.test(pin)) return json(400, { transaction_pin: ['Enter a valid PIN.'], error_key: 'validation_error' });
    const login = book.checkPin(mobile, pin);
    if (!login.ok) {
      return json(400, { detail: 'Mobile or pin invalid.', tries_remaining: String(login.triesRemaining), error_key: 'validation_error' });
    }
    const merchantExtras = Object.fromEntries(Object.entries(body).filter(([key]) => key.startsWith('merchant_')));
    const payment = book.create({
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

  function confirm(body: Record<string, unknown>): Reply {
    if (body.public_key !== publicKey) return json(400, { public_key: ['Invalid public key.'], error_key: 'validation_error' });
    const payment = book.get(String(body.token ?? ''));
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

  function epaymentInitiate(body: Record<string, unknown>): Reply {
    const errors = initiateErrors(body);
    if (errors) return json(400, { ...errors, error_key: 'validation_error' });
    return json(200, initiateBody(epayments.create(body), baseUrl));
  }

  function epaymentLookup(pidx: string): Reply {
    const { httpStatus, body } = lookupReply(epayments.get(pidx));
    return json(httpStatus, body);
  }

  /** The hosted payment page and its two form posts (pay, cancel), which redirect to `return_url`. */
  function hostedPage(method: string, path: string, query: Record<string, string | string[]>, body: Record<string, unknown> | null): Reply | undefined {
    const html = (status: number, text: string): Reply => ({ status, body: text, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
    const redirect = (payment: SandboxEpayment): Reply => ({ status: 302, body: '', headers: { Location: returnUrl(payment) } });
    const pidx = String((method === 'GET' ? first(query.pidx) : body?.pidx) ?? '');
    const payment = epayments.get(pidx);
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
      const login = book.checkPin(mobile, String(body?.pin ?? ''));
      if (!login.ok) return html(400, epaymentPage(payment, `Mobile or pin invalid. Attempts Remaining: ${login.triesRemaining}`));
      if (body?.otp !== TEST_OTP) return html(400, epaymentPage(payment, 'Invalid confirmation code.'));
      epayments.complete(payment, mobile);
      return redirect(payment);
    }
    return undefined;
  }

  function route(method: string, path: string, query: Record<string, unknown>, body: Record<string, unknown> | null, fault: Fault | undefined, auth: string | undefined): Reply {
    const allow = (expected: string, handler: () => Reply): Reply =>
      method === expected ? handler() : json(405, { detail: `Method "${method}" not allowed.` });
    switch (path) {
      case '/api/v2/payment/verify/':
        return allow('POST', () => authorize(auth) ?? verify(body ?? {}, fault));
      case '/api/v2/payment/status/':
        return allow('GET', () => authorize(auth) ?? status(query));
      case '/api/v2/payment/initiate/':
        return allow('POST', () => initiate(body ?? {}));
      case '/api/v2/payment/confirm/':
        return allow('POST', () => confirm(body ?? {}));
      case '/api/v2/epayment/initiate/':
        return allow('POST', () => authorize(auth) ?? epaymentInitiate(body ?? {}));
      case '/api/v2/epayment/lookup/':
        return allow('POST', () => authorize(auth) ?? epaymentLookup(String(body?.pidx ?? '')));
      case '/api/v2/bank/':
        return allow('GET', () => json(200, { total_pages: 1, total_records: BANKS.length, next: null, previous: null, record_range: [1, BANKS.length], current_page: 1, records: BANKS }));
      default:
        return json(404, { detail: 'Not found.' });
    }
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    const query = parseQuery(url.search.slice(1)) as Record<string, string | string[]>;
    const cors = CLIENT_API.has(url.pathname) ? CORS_HEADERS : {};
    if (method === 'OPTIONS') return send(res, { status: 204, body: null, headers: CORS_HEADERS });
    if (method === 'GET' && url.pathname === '/checkout') {
      const html = checkoutPage({
        publicKey: first(query.public_key) ?? publicKey,
        amount: first(query.amount) ?? '1000',
        productIdentity: first(query.product_identity) ?? '',
        productName: first(query.product_name) ?? 'Your order',
        productUrl: first(query.product_url) ?? '',
      });
      return send(res, { status: 200, body: html, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
    }
    const raw = await readBody(req);
    if (raw === null) return send(res, json(413, { detail: 'Request body too large.' }));
    const body = parseBody(raw, req.headers['content-type']);
    if (url.pathname.startsWith('/epayment/')) {
      const page = hostedPage(method, url.pathname, query, body);
      return send(res, page ?? json(404, { detail: 'Not found.' }));
    }
    const auth = req.headers.authorization;
    if (recordRequests) requests.push({ method, path: url.pathname, query, body, authorization: redact(auth), at: Date.now() });

    const fault = faults.take(endpointOf(url.pathname));
    if (faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
    switch (fault?.kind) {
      case 'hang':
        return;
      case 'drop':
        req.socket.destroy();
        return;
      case 'server_error':
        return send(res, { status: fault.status ?? 503, body: { detail: 'Service temporarily unavailable.' }, headers: cors });
      case 'non_json':
        return send(res, { status: 200, body: '<html><body><h1>Service temporarily unavailable</h1></body></html>', headers: { 'Content-Type': 'text/html' } });
      case 'unauthorized':
        return send(res, json(401, { detail: 'Invalid token.', status_code: 401 }));
      case 'lost_reply':
        route(method, url.pathname, query, body, undefined, auth);
        return;
      default: {
        const reply = route(method, url.pathname, query, body, fault, auth);
        return send(res, { ...reply, headers: { ...cors, ...reply.headers } });
      }
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => send(res, json(500, { detail: 'Sandbox error.' })));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const baseUrl = `http://${host}:${address.port}`;

  return {
    baseUrl,
    secretKey,
    publicKey,
    requests,
    faults,
    pay(input) {
      if (!Number.isSafeInteger(input.amount) || input.amount <= 0) throw new Error('pay(): amount must be a positive whole number of paisa');
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
    epay({ amount, purchaseOrderId = 'sandbox-order', purchaseOrderName = 'Sandbox order', returnUrl: back = 'http://127.0.0.1/return', status }) {
      const payment = epayments.create({
        amount,
        purchase_order_id: purchaseOrderId,
        purchase_order_name: purchaseOrderName,
        return_url: back,
        website_url: new URL(back).origin,
      });
      if (status === 'Completed') epayments.complete(payment, '9800000000');
      else if (status) payment.status = status;
      return { pidx: payment.pidx, paymentUrl: String(initiateBody(payment, baseUrl).payment_url) };
    },
    epayment(pidx) {
      const payment = epayments.get(pidx);
      return payment ? structuredClone(payment) : null;
    },
    setEpaymentStatus(pidx, status) {
      const payment = epayments.get(pidx);
      if (!payment) throw new Error(`setEpaymentStatus(): no ePayment ${pidx}`);
      if (status === 'Completed') epayments.complete(payment, payment.mobile ?? '9800000000');
      else payment.status = status;
    },
    returnUrlFor(pidx) {
      const payment = epayments.get(pidx);
      if (!payment) throw new Error(`returnUrlFor(): no ePayment ${pidx}`);
      return returnUrl(payment);
    },
    checkoutUrl({ amount, productIdentity, productName, productUrl }) {
      const params = new URLSearchParams({ amount: String(amount), product_identity: productIdentity });
      if (productName !== undefined) params.set('product_name', productName);
      if (productUrl !== undefined) params.set('product_url', productUrl);
      return `${baseUrl}/checkout?${params.toString()}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export type { SandboxPayment, SandboxPaymentState, NewPayment, SandboxEpayment, EpaymentStatus };

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function endpointOf(path: string): Endpoint {
  if (path === '/api/v2/epayment/initiate/') return 'epayment_initiate';
  if (path === '/api/v2/epayment/lookup/') return 'lookup';
  const name = /^\/api\/v2\/payment\/(verify|status|initiate|confirm)\/$/.exec(path)?.[1];
  return (name as Endpoint | undefined) ?? 'other';
}

function redact(header: string | undefined): string | null {
  if (header === undefined) return null;
  return header.startsWith('Key ') ? 'Key [redacted]' : '[redacted]';
}

/** Khalti's field errors for a token/amount pair, or `undefined` when both are usable. */
function tokenAndAmountErrors(fields: Record<string, unknown>): Record<string, string[]> | undefined {
  const errors: Record<string, string[]> = {};
  const token = first(fields.token as string | string[] | undefined);
  if (typeof token !== 'string' || token === '') errors.token = ['This field is required.'];
  const amount = fields.amount;
  const valid = typeof amount === 'number' ? Number.isSafeInteger(amount) : typeof amount === 'string' && /^\d+$/.test(amount);
  if (!valid) errors.amount = [amount === undefined || amount === '' ? 'This field is required.' : 'A valid integer is required.'];
  return Object.keys(errors).length > 0 ? errors : undefined;
}

function readBody(req: http.IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Khalti accepts JSON and form bodies alike. */
function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> | null {
  if (raw === '') return null;
  if (contentType?.includes('application/x-www-form-urlencoded')) return { ...parseQuery(raw) };
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function send(res: http.ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const isText = typeof reply.body === 'string';
  const text = reply.body === null ? '' : isText ? (reply.body as string) : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...(reply.body === null ? {} : { 'Content-Type': isText ? 'text/plain; charset=utf-8' : 'application/json' }),
    ...reply.headers,
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
