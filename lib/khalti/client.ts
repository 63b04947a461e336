// KhaltiClient: the only code that talks HTTP to Khalti. Every call resolves to a classified outcome.

import http from 'node:http';
import https from 'node:https';
import { publishKhaltiCall, type KhaltiEndpoint } from '../events';
import axios, { type AxiosInstance } from 'axios';
import Joi from 'joi';
import { classifyStatus, classifyVerify, type RawResponse, type StatusOutcome, type Unavailable, type VerifyOutcome } from './classify';
import {
  classifyInitiate,
  classifyLookup,
  type EpaymentInitiateRequest,
  type InitiateOutcome,
  type LookupOutcome,
} from './classify-epayment';
import type { CallOptions, KhaltiApi } from './api';
import { classifyRefund, type RefundOutcome, type RefundRequest } from './classify-refund';
import {
  CLIENT_OPTION_HINTS,
  CLIENT_OPTION_SCHEMAS,
  DEFAULT_BASE_URL,
  DEFAULT_RETRY_BASE_MS,
  DEFAULT_TIMEOUT_MS,
  type KhaltiClientOptions,
} from './options';
import { validateOptions } from '../validate-options';

/** Khalti answers are small; anything larger is refused unread. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
/** Retries of the read-only status call (the verify call is never retried blindly). */
export const STATUS_RETRIES = 2;
/** A call with less time than this left before its deadline is not made. */
const MIN_CALL_MS = 50;

const clientSchema = Joi.object(CLIENT_OPTION_SCHEMAS);

/** Client options with every default filled in (what `khaltiVerifier()` already validated). */
export type ResolvedClientOptions = Required<Omit<KhaltiClientOptions, 'sleep'>> & Pick<KhaltiClientOptions, 'sleep'>;

/** Marks options that were validated already, so the factory's client is not validated twice. */
const RESOLVED = Symbol('resolved client options');

/** A client for options the factory already validated and completed. */
export function clientFor(options: ResolvedClientOptions): KhaltiClient {
  return new KhaltiClient({ ...options, [RESOLVED]: true } as KhaltiClientOptions);
}

const sleepFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Talks to Khalti's server API. Never throws for an HTTP or network problem: it classifies it. */
export class KhaltiClient implements KhaltiApi {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly #authorization: string;
  readonly #http: AxiosInstance;
  readonly #retryBaseMs: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: KhaltiClientOptions) {
    const config =
      typeof options === 'object' && options !== null && RESOLVED in options
        ? (options as ResolvedClientOptions)
        : validateOptions<ResolvedClientOptions>(
            clientSchema,
            options,
            { baseUrl: DEFAULT_BASE_URL, timeoutMs: DEFAULT_TIMEOUT_MS, retryBaseMs: DEFAULT_RETRY_BASE_MS },
            CLIENT_OPTION_HINTS,
          );
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = config.timeoutMs;
    this.#authorization = `Key ${config.secretKey}`;
    this.#retryBaseMs = config.retryBaseMs;
    this.#sleep = config.sleep ?? sleepFor;
    this.#http = axios.create({
      baseURL: this.baseUrl,
      httpAgent: new http.Agent({ keepAlive: true }),
      httpsAgent: new https.Agent({ keepAlive: true }),
      maxRedirects: 0,
      maxContentLength: MAX_RESPONSE_BYTES,
      maxBodyLength: MAX_RESPONSE_BYTES,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      headers: { Accept: 'application/json', 'User-Agent': 'khalti-express' },
    });
  }

  /**
   * `POST /api/v2/payment/verify/`. Not read-only at Khalti (it completes the payment), so it is never
   * retried here; an `unavailable` outcome means "ask `status()`".
   */
  async verify(token: string, amount: number, options: CallOptions = {}): Promise<VerifyOutcome> {
    return this.#timed('verify', () => this.#send('POST', '/api/v2/payment/verify/', { token, amount }, options.deadline), classifyVerify);
  }

  /**
   * `GET /api/v2/payment/status/?token&amount`: read-only, so retried up to twice with jittered
   * backoff when Khalti gives no usable answer.
   */
  async status(token: string, amount: number, options: CallOptions = {}): Promise<StatusOutcome> {
    return this.#readOnly(
      'status',
      () => this.#send('GET', '/api/v2/payment/status/', { token, amount }, options.deadline),
      classifyStatus,
      options,
    );
  }

  /**
   * ePayment `POST /api/v2/epayment/initiate/`: starts a payment and answers its `pidx` and
   * `payment_url`. Never retried: a lost answer could leave a second payment request behind.
   */
  async initiate(request: EpaymentInitiateRequest, options: CallOptions = {}): Promise<InitiateOutcome> {
    return this.#timed('initiate', () => this.#send('POST', '/api/v2/epayment/initiate/', request, options.deadline), classifyInitiate);
  }

  /**
   * ePayment `POST /api/v2/epayment/lookup/`: what happened to `pidx`. Read-only, so retried like
   * `status()`.
   */
  async lookup(pidx: string, options: CallOptions = {}): Promise<LookupOutcome> {
    return this.#readOnly(
      'lookup',
      () => this.#send('POST', '/api/v2/epayment/lookup/', { pidx }, options.deadline),
      classifyLookup,
      options,
    );
  }

  /**
   * `POST /api/merchant-transaction/{transactionId}/refund/` (no `/v2`): no body for a full refund,
   * `{ amount }` for a partial one, `mobile` for a bank payment. Never retried: Khalti has no
   * idempotency key, so a lost answer is resolved by reading the payment's state, not by posting again.
   */
  async refund(transactionId: string, request: RefundRequest = {}, options: CallOptions = {}): Promise<RefundOutcome> {
    const body: Record<string, unknown> = {};
    if (request.amount !== undefined) body.amount = request.amount;
    if (request.mobile !== undefined) body.mobile = request.mobile;
    const path = `/api/merchant-transaction/${encodeURIComponent(transactionId)}/refund/`;
    return this.#timed(
      'refund',
      () => this.#send('POST', path, Object.keys(body).length > 0 ? body : undefined, options.deadline),
      classifyRefund,
    );
  }

  /** A read-only call: up to `STATUS_RETRIES` retries with jittered backoff while the answer is unusable. */
  async #readOnly<T extends { kind: string }>(
    endpoint: KhaltiEndpoint,
    send: () => Promise<RawResponse | Unavailable>,
    classify: (response: RawResponse) => T,
    options: CallOptions,
  ): Promise<T | Unavailable> {
    let outcome: T | Unavailable = { kind: 'unavailable', reason: 'timeout' };
    for (let attempt = 0; attempt <= STATUS_RETRIES; attempt += 1) {
      if (attempt > 0) {
        const backoff = this.#backoff(attempt);
        if (options.deadline !== undefined && Date.now() + backoff + MIN_CALL_MS > options.deadline) break;
        await this.#sleep(backoff);
      }
      outcome = await this.#timed(endpoint, send, classify);
      if (outcome.kind !== 'unavailable') break;
    }
    return outcome;
  }

  /** One HTTP call, classified, and told to the `khalti-express:khalti` channel (when subscribed). */
  async #timed<T extends { kind: string }>(
    endpoint: KhaltiEndpoint,
    send: () => Promise<RawResponse | Unavailable>,
    classify: (response: RawResponse) => T,
  ): Promise<T | Unavailable> {
    const started = performance.now();
    const response = await send();
    const outcome = 'kind' in response ? response : classify(response);
    publishKhaltiCall(() => ({
      endpoint,
      ...('kind' in response ? {} : { httpStatus: response.status }),
      outcome: outcome.kind,
      ...(outcome.kind === 'unavailable' ? { reason: (outcome as Unavailable).reason } : {}),
      durationMs: performance.now() - started,
    }));
    return outcome;
  }

  /** Jittered exponential backoff: between half and all of `base × 2^(attempt-1)`. */
  #backoff(attempt: number): number {
    const ceiling = this.#retryBaseMs * 2 ** (attempt - 1);
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  async #send(
    method: 'GET' | 'POST',
    path: string,
    payload: object | undefined,
    deadline: number | undefined,
  ): Promise<RawResponse | Unavailable> {
    const timeout = deadline === undefined ? this.timeoutMs : Math.min(this.timeoutMs, deadline - Date.now());
    if (timeout < MIN_CALL_MS) return { kind: 'unavailable', reason: 'timeout' };
    // `timeout` is an idle timeout in Node; the signal bounds the whole exchange. Its timer is cleared
    // when the call ends (AbortSignal.timeout() leaves each one pending, with a weak reference, for the
    // full timeout: tens of thousands at a time under load, each walked by the garbage collector).
    const bound = new AbortController();
    const timer = setTimeout(() => bound.abort(), timeout).unref();
    try {
      const response = await this.#http.request<string>({
        method,
        url: path,
        headers: { Authorization: this.#authorization, ...(method === 'POST' && payload ? { 'Content-Type': 'application/json' } : {}) },
        ...(method === 'POST' ? (payload ? { data: JSON.stringify(payload) } : {}) : { params: payload }),
        timeout,
        signal: bound.signal,
      });
      return { status: response.status, text: typeof response.data === 'string' ? response.data : '' };
    } catch (error) {
      // Never keep or rethrow the axios error: its config holds the Authorization header.
      return { kind: 'unavailable', reason: transportFailureReason(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}

function transportFailureReason(error: unknown): Unavailable['reason'] {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED') return 'timeout';
  if (code === 'ERR_BAD_RESPONSE' || code === 'ERR_FR_MAX_CONTENT_LENGTH_EXCEEDED') return 'bad_response';
  return 'network';
}
