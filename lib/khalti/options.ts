// The Khalti client's options: joi pieces, defaults and hints, shared by `KhaltiClient` and the factory.

import Joi from 'joi';

/** Khalti's production host. Defaults `baseUrl`. */
export const DEFAULT_BASE_URL = 'https://khalti.com';
/** Per-call timeout. Defaults `timeoutMs`. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** First backoff before a status retry; doubles each time, with jitter. Defaults `retryBaseMs`. */
export const DEFAULT_RETRY_BASE_MS = 200;

export interface KhaltiClientOptions {
  /** Your Khalti secret key, sent as `Authorization: Key <secretKey>`. Required. */
  secretKey: string;
  /** Khalti's host, without `/api/v2`. Defaults to `https://khalti.com`. */
  baseUrl?: string;
  /** Timeout of one HTTP call, in ms. Defaults to `10000`. */
  timeoutMs?: number;
  /** First backoff before a status retry, in ms (doubles, with jitter). Defaults to `200`. */
  retryBaseMs?: number;
  /** How backoffs wait; tests pass an instant one. Defaults to `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
}

/** The schema of each client option, for `KhaltiClient`'s schema and the factory's. */
export const CLIENT_OPTION_SCHEMAS = {
  secretKey: Joi.string().min(1).required(),
  baseUrl: Joi.string().uri({ scheme: ['http', 'https'] }),
  timeoutMs: Joi.number().integer().min(1).max(120_000),
  retryBaseMs: Joi.number().integer().min(0).max(10_000),
  sleep: Joi.function(),
} as const;

/** What each client option must be, for start-up error messages. */
export const CLIENT_OPTION_HINTS: Readonly<Record<string, string>> = {
  secretKey: 'pass your Khalti secret key as a non-empty string (the value is never printed)',
  baseUrl: 'use an http(s) URL such as https://khalti.com or https://dev.khalti.com',
  timeoutMs: 'use a whole number of milliseconds from 1 to 120000',
  retryBaseMs: 'use a whole number of milliseconds from 0 to 10000',
  sleep: 'use a function (ms) => Promise<void>',
};
