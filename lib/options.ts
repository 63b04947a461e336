// khaltiVerifier's options: their joi schema, hints and defaults, and the resolved Config (types: types.ts).

import Joi from 'joi';
import { KhaltiError } from './errors';
import { CLIENT_OPTION_HINTS, CLIENT_OPTION_SCHEMAS, DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS } from './khalti/options';
import { missingStoreMethods, STORE_METHODS } from './ledger/store-methods';
import type { EpaymentOptions, KhaltiVerifierOptions, Logger } from './types';
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
/** How long a refund of unknown outcome waits before Khalti's "not refunded" is believed. */
export const DEFAULT_REFUND_SETTLE_MS = 60_000;
/** Extra time on top of the Khalti calls' budget, for the app's hooks and the store. */
const HOOK_ALLOWANCE_MS = 2_000;

/** Options after validation, with every default filled in. */
export interface Config<Req = unknown> extends Required<
  Omit<KhaltiVerifierOptions<Req>, 'onFailed' | 'getOrderId' | 'epayment' | 'store' | 'client' | 'onRefunded'>
> {
  onRefunded?: KhaltiVerifierOptions<Req>['onRefunded'];
  onFailed?: KhaltiVerifierOptions<Req>['onFailed'];
  getOrderId?: KhaltiVerifierOptions<Req>['getOrderId'];
  /** The app's store; the composition root makes a `MemoryStore` when there is none. */
  store?: KhaltiVerifierOptions<Req>['store'];
  /** The app's Khalti API; the composition root makes a `KhaltiClient` when there is none. */
  client?: KhaltiVerifierOptions<Req>['client'];
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

/** The methods a `client` option must have (see `KhaltiApi`). */
const KHALTI_API_METHODS = ['verify', 'status', 'initiate', 'lookup', 'refund'] as const;

const optionsSchema = Joi.object({
  secretKey: CLIENT_OPTION_SCHEMAS.secretKey,
  expectedAmount: Joi.function().required(),
  onVerified: Joi.function().required(),
  onFailed: Joi.function(),
  store: Joi.any().custom((value: unknown) => {
    if (missingStoreMethods(value).length > 0) throw new Error('not a store');
    return value;
  }),
  client: Joi.any().custom((value: unknown) => {
    const candidate = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    if (KHALTI_API_METHODS.some((name) => typeof candidate[name] !== 'function')) throw new Error('not a Khalti API');
    return value;
  }),
  baseUrl: CLIENT_OPTION_SCHEMAS.baseUrl,
  path: Joi.string().pattern(/^\/[A-Za-z0-9/_.~-]*$/),
  timeoutMs: CLIENT_OPTION_SCHEMAS.timeoutMs,
  maxInFlight: Joi.number().integer().min(1),
  minAmount: Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER),
  bodyLimit: Joi.number()
    .integer()
    .min(256)
    .max(1024 * 1024),
  getOrderId: Joi.function(),
  logger: loggerSchema,
  leaseMs: Joi.number().integer().min(1000),
  fulfilmentTimeoutMs: Joi.number().integer().min(1).max(600_000),
  onRefunded: Joi.function(),
  refundUnfulfillable: Joi.boolean(),
  refundSettleMs: Joi.number().integer().min(0).max(86_400_000),
  tracing: Joi.boolean(),
  epayment: Joi.object({
    returnUrl: Joi.string()
      .uri({ scheme: ['http', 'https'] })
      .required(),
    websiteUrl: Joi.string()
      .uri({ scheme: ['http', 'https'] })
      .required(),
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
  client: `pass an object with the KhaltiApi methods ${KHALTI_API_METHODS.join(', ')} (such as a KhaltiClient)`,
  onVerified: 'pass a function (payment, req) => void | object that fulfils the order',
  onFailed: 'pass a function (failure, req) => void',
  store: `pass a ledger store such as new MemoryStore(); it needs the methods ${STORE_METHODS.slice(0, -1).join(', ')} and ${STORE_METHODS.at(-1)}`,
  path: 'use a route path starting with "/", such as /khalti/verify',
  maxInFlight: 'use a whole number of at least 1',
  minAmount: "use a whole number of paisa of at least 1 (Khalti's minimum is 1000)",
  bodyLimit: 'use a whole number of bytes from 256 to 1048576',
  getOrderId: 'pass a function (req) => orderId',
  logger: 'pass an object with warn(message) and error(message) functions',
  leaseMs: 'use a whole number of milliseconds of at least 1000',
  fulfilmentTimeoutMs: 'use a whole number of milliseconds from 1 to 600000',
  onRefunded: 'pass a function (refund) => void, called once per refund Khalti confirmed',
  refundUnfulfillable: 'pass true to let reconcile() refund unfulfillable payments, or false',
  refundSettleMs: 'use a whole number of milliseconds from 0 to 86400000',
  tracing: 'pass true to trace with OpenTelemetry (install @opentelemetry/api), or false',
  epayment:
    'pass { returnUrl, websiteUrl } as http(s) URLs, successUrl(orderId) and failureUrl(orderId, code) functions, ' +
    'and optionally orderInfo, redirectOrigins (http(s) URLs), initiatePath and returnPath',
};

/** Validate and complete `khaltiVerifier()`'s options. Throws `invalid_option` or `store_required`. */
export function parseOptions<Req>(options: KhaltiVerifierOptions<Req>): Config<Req> {
  const parsed = validateOptions<KhaltiVerifierOptions<Req>>(optionsSchema, options, {}, OPTION_HINTS);
  if (parsed.store === undefined && process.env.NODE_ENV === 'production') {
    throw new KhaltiError('store_required', {
      message:
        'khalti-express: option `store` is required when NODE_ENV=production: the in-memory ledger forgets paid tokens ' +
        'on restart. Pass a durable store: `new SqliteStore({ filename })` from khalti-express/stores/sqlite for one ' +
        'machine, or `PostgresStore` (khalti-express/stores/postgres) / `RedisStore` (khalti-express/stores/redis) for ' +
        'several app instances (or `new MemoryStore()` on purpose).',
    });
  }
  if (parsed.client !== undefined && parsed.baseUrl !== undefined) {
    throw new KhaltiError('invalid_option', {
      message:
        'khalti-express: options `client` and `baseUrl` conflict: a client you pass talks to its own host. Drop ' +
        '`baseUrl`, or drop `client`.',
    });
  }
  const timeoutMs = parsed.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const khaltiBudgetMs = 4 * timeoutMs + 1_000;
  const { epayment, ...rest } = parsed;
  const leaseMs = parsed.leaseMs ?? Math.max(60_000, 2 * (khaltiBudgetMs + HOOK_ALLOWANCE_MS));
  const fulfilmentTimeoutMs = parsed.fulfilmentTimeoutMs ?? DEFAULT_FULFILMENT_TIMEOUT_MS;
  if (parsed.fulfilmentTimeoutMs !== undefined && khaltiBudgetMs + fulfilmentTimeoutMs > leaseMs) {
    throw new KhaltiError('invalid_option', {
      message:
        `khalti-express: option \`fulfilmentTimeoutMs\` is invalid: Khalti's budget (4 × timeoutMs + 1000 = ${khaltiBudgetMs} ms) ` +
        `plus fulfilmentTimeoutMs must fit in leaseMs (${leaseMs} ms), or another attempt could take the payment over while ` +
        'onVerified still runs. Lower it or raise `leaseMs`.',
    });
  }
  return {
    ...rest,
    baseUrl: parsed.baseUrl ?? DEFAULT_BASE_URL,
    path: parsed.path ?? DEFAULT_PATH,
    timeoutMs,
    maxInFlight: parsed.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
    minAmount: parsed.minAmount ?? DEFAULT_MIN_AMOUNT,
    bodyLimit: parsed.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logger: parsed.logger ?? CONSOLE_LOGGER,
    leaseMs,
    fulfilmentTimeoutMs,
    refundUnfulfillable: parsed.refundUnfulfillable ?? false,
    refundSettleMs: parsed.refundSettleMs ?? DEFAULT_REFUND_SETTLE_MS,
    tracing: parsed.tracing ?? false,
    khaltiBudgetMs,
    ...(epayment
      ? {
          epayment: {
            ...epayment,
            initiatePath: epayment.initiatePath ?? DEFAULT_INITIATE_PATH,
            returnPath: epayment.returnPath ?? DEFAULT_RETURN_PATH,
          },
        }
      : {}),
  };
}
