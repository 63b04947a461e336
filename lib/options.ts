// khaltiVerifier's options: their types, their joi schema, their defaults, and the resolved Config.

import type { Request } from 'express';
import Joi from 'joi';
import { KhaltiError, type VerifyErrorCode } from './errors';
import { CLIENT_OPTION_HINTS, DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS } from './khalti/client';
import { MemoryStore } from './ledger/memory';
import { missingStoreMethods, STORE_METHODS, type LedgerStore } from './ledger/store';
import { validateOptions } from './validate-options';

/** Where the endpoint is mounted. Defaults `path`. */
export const DEFAULT_PATH = '/khalti/verify';
/** ePayment's initiate route. Defaults `epayment.initiatePath`. */
export const DEFAULT_INITIATE_PATH = '/khalti/initiate';
/** ePayment's return route. Defaults `epayment.returnPath`. */
export const DEFAULT_RETURN_PATH = '/khalti/return';
/** Verifications in flight before new ones get `overloaded`. Defaults `maxInFlight`. */
export const DEFAULT_MAX_IN_FLIGHT = 256;
/** Khalti's minimum payment, Rs 10 in paisa. Defaults `minAmount`. */
export const DEFAULT_MIN_AMOUNT = 1000;
/** Largest accepted request body, in bytes. Defaults `bodyLimit`. */
export const DEFAULT_BODY_LIMIT = 16 * 1024;
/** How long `onVerified` may take before the request is answered `fulfilment_failed`. Defaults `fulfilmentTimeoutMs`. */
export const DEFAULT_FULFILMENT_TIMEOUT_MS = 15_000;
/** Extra time on top of the Khalti calls' budget, for the app's hooks and the store. */
const HOOK_ALLOWANCE_MS = 2_000;

/** What `onVerified` receives: a Khalti-confirmed, amount-matched, Completed, unrefunded payment. */
export interface VerifiedPayment {
  orderId: string;
  /** The widget's payment token; `null` for an ePayment payment (see `pidx`). */
  token: string | null;
  /** The ePayment `pidx`; absent for a widget payment. */
  pidx?: string;
  /** Paisa. */
  amount: number;
  /**
   * Khalti's `idx` (widget; `null` when only the status API could confirm the payment), or lookup's
   * `transaction_id` (ePayment).
   */
  transactionId: string | null;
  /** Khalti's response body that confirmed it. */
  khalti: unknown;
}

/** What `onFailed` receives. */
export interface VerificationFailure {
  code: VerifyErrorCode;
  message: string;
  orderId?: string;
  token?: string;
  /** The ePayment `pidx`, for an ePayment payment. */
  pidx?: string;
  /** Paisa, as posted (or, for ePayment, the order's price). */
  amount?: number;
  /** Paisa, from `expectedAmount`. */
  expectedAmount?: number;
  /** Khalti's response body, when Khalti answered. */
  khalti?: unknown;
}

/** Any logger with `warn` and `error` (`info`, `debug` used if present): console, pino, winston… */
export interface Logger {
  warn(message: string): void;
  error(message: string): void;
  info?(message: string): void;
  debug?(message: string): void;
}

type MaybePromise<T> = T | Promise<T>;

export interface KhaltiVerifierOptions<Req = Request> {
  /** Your Khalti secret key. Required; never printed. */
  secretKey: string;
  /**
   * The order's price in paisa, or `null`/`undefined` when there is no such order *or it is not this
   * customer's* (check ownership here). `req` is `undefined` when `reconcile()` settles a payment no
   * request is waiting for: then answer the order's price without a customer to check. Required.
   */
  expectedAmount: (orderId: string, req: Req | undefined) => MaybePromise<number | null | undefined>;
  /**
   * Fulfil the order. Called once per payment, after the payment is recorded as verified; if it throws
   * (or the process dies) it runs again on the next retry or `reconcile()`, so make it idempotent on
   * `token` (or `transactionId`). `req` is `undefined` when `reconcile()` fulfils a payment that no
   * request is waiting for. A plain object it returns is sent back as `data`. Required.
   */
  onVerified: (payment: VerifiedPayment, req: Req | undefined) => MaybePromise<unknown>;
  /** Side effects of a failure (logging, metrics). Awaited; its errors are logged and ignored. Optional. */
  onFailed?: (failure: VerificationFailure, req: Req) => MaybePromise<void>;
  /** The ledger. Defaults to a new `MemoryStore` outside production; required when `NODE_ENV=production`. */
  store?: LedgerStore;
  /** Khalti's host. Defaults to `https://khalti.com`. */
  baseUrl?: string;
  /** Route path of the verify endpoint. Defaults to `/khalti/verify`. */
  path?: string;
  /** Timeout of each Khalti call, in ms. Defaults to `10000`. */
  timeoutMs?: number;
  /**
   * Concurrent verifications before new ones get `503 overloaded`, whose `Retry-After` (1–10 s) estimates
   * how long the waiting clients need to get a slot. Defaults to `256`.
   */
  maxInFlight?: number;
  /** Smallest accepted amount, in paisa. Defaults to `1000` (Khalti's minimum). */
  minAmount?: number;
  /** Largest accepted request body, in bytes. Defaults to `16384`. */
  bodyLimit?: number;
  /** Where the order id comes from. Defaults to `body.orderId`, else `body.product_identity`. */
  getOrderId?: (req: Req) => MaybePromise<unknown>;
  /** Where diagnostics go. Defaults to `console` (warn and error only). */
  logger?: Logger;
  /** How long a claim is held before another attempt may take it over, in ms. Defaults to `max(60000, 2 × (4 × timeoutMs + 3000))`. */
  leaseMs?: number;
  /**
   * How long `onVerified` may run before the request is answered `fulfilment_failed` and its
   * `maxInFlight` slot freed, in ms. The payment stays verified: if the hook finishes later its
   * fulfilment is recorded, else a retry or `reconcile()` runs it again once the lease ends.
   * Defaults to `15000`.
   */
  fulfilmentTimeoutMs?: number;
  /** Turn on Khalti ePayment (KPG-2) routes: `initiatePath` and `returnPath`. Optional. */
  epayment?: EpaymentOptions<Req>;
}

/** What `epayment.orderInfo` may add to the initiate request. */
export interface EpaymentOrderInfo {
  /** Defaults to `Order <orderId>`. */
  purchaseOrderName?: string;
  customerInfo?: { name?: string; email?: string; phone?: string };
  /** Must add up to the order's amount (Khalti checks). */
  amountBreakdown?: Array<{ label: string; amount: number }>;
  productDetails?: Array<Record<string, unknown>>;
}

/** Khalti ePayment (KPG-2): initiate on the server, redirect, look up on return. */
export interface EpaymentOptions<Req = Request> {
  /** Where Khalti sends the customer back: your `returnPath` on your public origin. Required. */
  returnUrl: string;
  /** Your shop's website. Required. */
  websiteUrl: string;
  /** Where `returnPath` redirects after a fulfilled payment. Required. */
  successUrl: (orderId: string) => string;
  /**
   * Where `returnPath` redirects after anything else; `orderId` is `''` when the pidx is missing or not
   * one this shop issued (the query's `purchase_order_id` is never trusted). Required.
   */
  failureUrl: (orderId: string, code: string) => string;
  /** Name, customer and breakdown for Khalti's payment page. Optional. */
  orderInfo?: (orderId: string, req: Req) => MaybePromise<EpaymentOrderInfo>;
  /**
   * Further origins `successUrl` / `failureUrl` may send the customer to, such as
   * `https://checkout.shop.example`. A target must otherwise be a path or URL on the origin of
   * `returnUrl` or `websiteUrl`: an order id in a URL can make it point anywhere (`//evil.example`).
   * Defaults to none.
   */
  redirectOrigins?: string[];
  /** Defaults to `/khalti/initiate`. */
  initiatePath?: string;
  /** Defaults to `/khalti/return`. */
  returnPath?: string;
}

/** Options after validation, with every default filled in. */
export interface Config<Req = Request> extends Required<Omit<KhaltiVerifierOptions<Req>, 'onFailed' | 'getOrderId' | 'epayment'>> {
  onFailed?: KhaltiVerifierOptions<Req>['onFailed'];
  getOrderId?: KhaltiVerifierOptions<Req>['getOrderId'];
  epayment?: EpaymentOptions<Req> & Required<Pick<EpaymentOptions<Req>, 'initiatePath' | 'returnPath'>>;
  /** Time allowed for all Khalti calls of one request: `4 × timeoutMs + 1000`. */
  khaltiBudgetMs: number;
}

/** The default logger: console's warn and error only (no info/debug chatter). */
const CONSOLE_LOGGER: Logger = {
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};

const loggerSchema = Joi.object({ warn: Joi.function().required(), error: Joi.function().required() }).unknown(true);

const optionsSchema = Joi.object({
  secretKey: Joi.string().min(1).required(),
  expectedAmount: Joi.function().required(),
  onVerified: Joi.function().required(),
  onFailed: Joi.function(),
  store: Joi.any().custom((value: unknown) => {
    if (missingStoreMethods(value).length > 0) throw new Error('not a store');
    return value;
  }),
  baseUrl: Joi.string().uri({ scheme: ['http', 'https'] }),
  path: Joi.string().pattern(/^\/[A-Za-z0-9/_.~-]*$/),
  timeoutMs: Joi.number().integer().min(1).max(120_000),
  maxInFlight: Joi.number().integer().min(1),
  minAmount: Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER),
  bodyLimit: Joi.number().integer().min(256).max(1024 * 1024),
  getOrderId: Joi.function(),
  logger: loggerSchema,
  leaseMs: Joi.number().integer().min(1000),
  fulfilmentTimeoutMs: Joi.number().integer().min(1).max(600_000),
  epayment: Joi.object({
    returnUrl: Joi.string().uri({ scheme: ['http', 'https'] }).required(),
    websiteUrl: Joi.string().uri({ scheme: ['http', 'https'] }).required(),
    successUrl: Joi.function().required(),
    failureUrl: Joi.function().required(),
    orderInfo: Joi.function(),
    redirectOrigins: Joi.array().items(Joi.string().uri({ scheme: ['http', 'https'] })),
    initiatePath: Joi.string().pattern(/^\/[A-Za-z0-9/_.~-]*$/),
    returnPath: Joi.string().pattern(/^\/[A-Za-z0-9/_.~-]*$/),
  }),
});

const OPTION_HINTS: Readonly<Record<string, string>> = {
  ...CLIENT_OPTION_HINTS,
  expectedAmount: 'pass a function (orderId, req) => paisa | null',
  onVerified: 'pass a function (payment, req) => void | object that fulfils the order',
  onFailed: 'pass a function (failure, req) => void',
  store: `pass a ledger store such as new MemoryStore(); it needs the methods ${STORE_METHODS.slice(0, -1).join(', ')} and ${STORE_METHODS.at(-1)}`,
  path: 'use a route path starting with "/", such as /khalti/verify',
  maxInFlight: 'use a whole number of at least 1',
  minAmount: 'use a whole number of paisa of at least 1 (Khalti\'s minimum is 1000)',
  bodyLimit: 'use a whole number of bytes from 256 to 1048576',
  getOrderId: 'pass a function (req) => orderId',
  logger: 'pass an object with warn(message) and error(message) functions',
  leaseMs: 'use a whole number of milliseconds of at least 1000',
  fulfilmentTimeoutMs: 'use a whole number of milliseconds from 1 to 600000',
  epayment:
    'pass { returnUrl, websiteUrl } as http(s) URLs, successUrl(orderId) and failureUrl(orderId, code) functions, and optionally orderInfo, redirectOrigins (http(s) URLs), initiatePath and returnPath',
};

/** Validate and complete `khaltiVerifier()`'s options. Throws `invalid_option` or `store_required`. */
export function parseOptions<Req>(options: KhaltiVerifierOptions<Req>): Config<Req> {
  const parsed = validateOptions<KhaltiVerifierOptions<Req>>(optionsSchema, options, {}, OPTION_HINTS);
  if (parsed.store === undefined && process.env.NODE_ENV === 'production') {
    throw new KhaltiError('store_required', {
      message:
        'khalti-express: option `store` is required when NODE_ENV=production: the in-memory ledger forgets paid tokens on restart. Pass a durable store: `new SqliteStore({ filename })` from khalti-express/stores/sqlite for one machine, or `PostgresStore` (khalti-express/stores/postgres) / `RedisStore` (khalti-express/stores/redis) for several app instances (or `new MemoryStore()` on purpose).',
    });
  }
  const timeoutMs = parsed.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const khaltiBudgetMs = 4 * timeoutMs + 1_000;
  const { epayment, ...rest } = parsed;
  const leaseMs = parsed.leaseMs ?? Math.max(60_000, 2 * (khaltiBudgetMs + HOOK_ALLOWANCE_MS));
  const fulfilmentTimeoutMs = parsed.fulfilmentTimeoutMs ?? DEFAULT_FULFILMENT_TIMEOUT_MS;
  if (parsed.fulfilmentTimeoutMs !== undefined && khaltiBudgetMs + fulfilmentTimeoutMs > leaseMs) {
    throw new KhaltiError('invalid_option', {
      message: `khalti-express: option \`fulfilmentTimeoutMs\` is invalid: Khalti's budget (4 × timeoutMs + 1000 = ${khaltiBudgetMs} ms) plus fulfilmentTimeoutMs must fit in leaseMs (${leaseMs} ms), or another attempt could take the payment over while onVerified still runs. Lower it or raise \`leaseMs\`.`,
    });
  }
  return {
    ...rest,
    store: parsed.store ?? new MemoryStore(),
    baseUrl: parsed.baseUrl ?? DEFAULT_BASE_URL,
    path: parsed.path ?? DEFAULT_PATH,
    timeoutMs,
    maxInFlight: parsed.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
    minAmount: parsed.minAmount ?? DEFAULT_MIN_AMOUNT,
    bodyLimit: parsed.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logger: parsed.logger ?? CONSOLE_LOGGER,
    leaseMs,
    fulfilmentTimeoutMs,
    khaltiBudgetMs,
    ...(epayment
      ? { epayment: { ...epayment, initiatePath: epayment.initiatePath ?? DEFAULT_INITIATE_PATH, returnPath: epayment.returnPath ?? DEFAULT_RETURN_PATH } }
      : {}),
  };
}
