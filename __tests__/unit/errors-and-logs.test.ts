// The error family, the response renderer and the redacting log helper.
import { ERROR_CODES, isKhaltiError, KhaltiError, renderError } from '../../lib';
import { createLog, maskToken } from '../../lib/log';

describe('KhaltiError', () => {
  it('carries code, status and the contract message', () => {
    const error = new KhaltiError('payment_rejected');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('KhaltiError');
    expect(error.code).toBe('payment_rejected');
    expect(error.statusCode).toBe(402);
    expect(error.message).toBe(ERROR_CODES.payment_rejected.message);
  });

  it('is recognised by brand, even from another copy of the package', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('khalti-express.KhaltiError')]: true, code: 'overloaded' });
    expect(isKhaltiError(foreign)).toBe(true);
    expect(isKhaltiError(new Error('x'))).toBe(false);
    expect(isKhaltiError(null)).toBe(false);
    expect(isKhaltiError('overloaded')).toBe(false);
  });

  it('states every contract code with its HTTP status', () => {
    expect(Object.fromEntries(Object.entries(ERROR_CODES).map(([code, info]) => [code, info.status]))).toEqual({
      invalid_request: 400,
      request_too_large: 413,
      order_not_found: 404,
      amount_mismatch: 409,
      token_already_used: 409,
      order_already_paid: 409,
      verification_in_progress: 409,
      payment_rejected: 402,
      refund_in_progress: 409,
      refund_not_allowed: 409,
      refund_rejected: 402,
      refund_too_large: 409,
      refund_unknown: 502,
      payment_not_completed: 402,
      gateway_error: 502,
      fulfilment_failed: 500,
      overloaded: 503,
      internal_error: 500,
      invalid_option: 500,
      store_required: 500,
    });
  });
});

describe('renderError', () => {
  it('renders the contract body, Retry-After and details', () => {
    expect(renderError(new KhaltiError('overloaded', { retryAfter: 3 }))).toEqual({
      status: 503,
      headers: { 'Cache-Control': 'no-store', 'Retry-After': '3' },
      body: { ok: false, error: { code: 'overloaded', message: ERROR_CODES.overloaded.message } },
    });
    expect(renderError(new KhaltiError('invalid_request', { details: ['amount'] })).body.error.details).toEqual(['amount']);
  });

  it('turns anything else into internal_error without its message or stack', () => {
    const rendered = renderError(new Error('SELECT * FROM secrets'));
    expect(rendered.status).toBe(500);
    expect(rendered.body.error.code).toBe('internal_error');
    expect(JSON.stringify(rendered)).not.toContain('secrets');
    expect(JSON.stringify(rendered)).not.toContain('at ');
  });
});

describe('createLog', () => {
  it('masks tokens, quotes values and scrubs the secret key', () => {
    const lines: string[] = [];
    const log = createLog({ warn: (m) => lines.push(m), error: (m) => lines.push(m) }, 'live_secret_key_zzz');
    log('warn', 'Khalti said live_secret_key_zzz', {
      token: 'QUao9cqFzxPgvWJNi9aKac',
      httpStatus: 401,
      detail: 'a "quoted"\nline',
      skipped: undefined,
    });
    expect(lines).toEqual(['khalti-express: Khalti said [redacted] token="QUao…" httpStatus=401 detail="a \\"quoted\\"\\nline"']);
  });

  it('skips levels the logger lacks and survives a throwing logger', () => {
    const log = createLog(
      {
        warn: () => {
          throw new Error('logger down');
        },
        error: () => undefined,
      },
      'k',
    );
    expect(() => log('info', 'hello')).not.toThrow();
    expect(() => log('warn', 'hello')).not.toThrow();
  });

  it('maskToken keeps the first 4 characters', () => {
    expect(maskToken('abcdefgh')).toBe('abcd…');
  });
});
