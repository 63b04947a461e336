// The one way the package logs: one formatted line per event, tokens masked, the secret key scrubbed.

import type { Logger } from './types';

type Level = 'debug' | 'info' | 'warn' | 'error';
type Fields = Record<string, string | number | boolean | null | undefined>;

/** Fields that hold a payment's bearer secret (a widget token, an ePayment pidx): logged masked. */
const MASKED_FIELDS: ReadonlySet<string> = new Set(['token', 'pidx']);

/** First 4 characters of a payment token, the rest hidden. */
export function maskToken(token: string): string {
  return `${token.slice(0, 4)}…`;
}

/** An error's name and message for a log line (the log scrubs the secret key); never a stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300);
  return typeof error;
}

export interface Log {
  (level: Level, message: string, fields?: Fields): void;
}

/** `text` with every occurrence of the secret key replaced by `[redacted]`. */
export function scrubSecret(text: string, secretKey: string): string {
  return secretKey === '' ? text : text.split(secretKey).join('[redacted]');
}

/**
 * Build the package's logger. Fields are printed as `key=value` (values JSON-quoted so nothing can
 * forge a line; U+2028/U+2029 escaped too), `token` and `pidx` fields are masked, and the secret key is scrubbed from the whole line as a
 * last guard. A logger that throws is ignored: logging never changes a response.
 */
export function createLog(logger: Logger, secretKey: string): Log {
  return (level, message, fields = {}) => {
    const write = logger[level];
    if (typeof write !== 'function') return;
    const parts = Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${JSON.stringify(MASKED_FIELDS.has(key) && typeof value === 'string' ? maskToken(value) : value)}`);
    // JSON leaves U+2028/U+2029 as they are, and some log viewers split a line on them.
    const line = scrubSecret([`khalti-express: ${message}`, ...parts].join(' '), secretKey).replace(
      /[\u2028\u2029]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16)}`,
    );
    try {
      write.call(logger, line);
    } catch {
      // A broken logger must not turn a verified payment into a failure.
    }
  };
}
