// Test helpers: a real Express shop around khaltiVerifier, a recording logger, and the leak check.
import { randomBytes } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { khaltiVerifier, type KhaltiVerifierOptions, type Logger, type VerificationFailure, type VerifiedPayment } from '../../lib';

/** A fresh, real-looking key per run (never committed), so a leak of it is detectable anywhere. */
export const SECRET_KEY = `test_secret_key_${randomBytes(16).toString('hex')}`;
export const KHALTI_URL = 'https://khalti.com';

const seen: string[] = [];

/** Fails the test if the secret key (or its hex part) appeared in any recorded response or log line. */
export function assertNoSecretLeaked(): void {
  const hex = SECRET_KEY.slice('test_secret_key_'.length);
  const leaks = seen.filter((text) => text.includes(hex));
  seen.length = 0;
  expect(leaks).toEqual([]);
}

/** Record text that must never contain the secret (responses, log lines). */
export function recordForLeakCheck(text: string): void {
  seen.push(text);
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

export function recordingLogger(): { lines: LogLine[]; logger: Required<Logger> } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (message: string) => {
    lines.push({ level, message });
    recordForLeakCheck(message);
  };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

export interface ShopOptions extends Partial<KhaltiVerifierOptions> {
  /** Prices in paisa by order id; defaults to A-17 = 1000 and B-2 = 2500. */
  prices?: Record<string, number>;
  /** Middleware the shop mounts before the verifier (e.g. its own body parser). */
  before?: express.RequestHandler[];
}

/** A shop: an Express app with the verifier mounted, recording every hook call and log line. */
export function createShop(options: ShopOptions = {}) {
  const { prices = { 'A-17': 1000, 'B-2': 2500 }, before = [], ...overrides } = options;
  const verified: VerifiedPayment[] = [];
  const failed: VerificationFailure[] = [];
  const expectedAmountCalls: string[] = [];
  const { lines, logger } = recordingLogger();
  const router = khaltiVerifier({
    secretKey: SECRET_KEY,
    baseUrl: KHALTI_URL,
    store: undefined,
    expectedAmount: (orderId) => {
      expectedAmountCalls.push(orderId);
      return Object.hasOwn(prices, orderId) ? prices[orderId] : null;
    },
    onVerified: (payment) => {
      verified.push(payment);
      return { receipt: `R-${verified.length}` };
    },
    onFailed: (failure) => {
      failed.push(failure);
    },
    logger,
    ...overrides,
  });
  const app = express();
  // Every response any test gets from this app goes through the leak check, however it was requested.
  app.use((_req, res, next) => {
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      recordForLeakCheck(JSON.stringify(res.getHeaders()) + (typeof body === 'string' ? body : JSON.stringify(body ?? '')));
      return send(body);
    };
    next();
  });
  for (const middleware of before) app.use(middleware);
  app.use(router);
  app.get('/health', (_req, res) => res.json({ ok: true }));

  /** POST to the verify endpoint as JSON (or as a form with `form: true`), recording the response. */
  async function post(body: unknown, opts: { form?: boolean; path?: string } = {}) {
    let call = request(app).post(opts.path ?? '/khalti/verify');
    if (opts.form) call = call.type('form');
    return call.send(body as object);
  }

  return { app, router, verified, failed, expectedAmountCalls, logs: lines, post };
}
