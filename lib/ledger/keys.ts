// Ledger keys: what a record is keyed by, in one place. A widget payment by its token, an ePayment by
// `pidx:<pidx>`, and initiate's short-lived order check by `check:<uuid>`.

import { randomUUID } from 'node:crypto';

/** What a ledger key names. Widget tokens never contain `:` (see `TOKEN_PATTERN`), so prefixes are unambiguous. */
export type LedgerKey =
  | { kind: 'token'; token: string }
  | { kind: 'pidx'; pidx: string }
  /** Initiate's claim that refuses a paid order before Khalti is asked; released at once. No payment. */
  | { kind: 'check'; id: string };

const PIDX_PREFIX = 'pidx:';
const CHECK_PREFIX = 'check:';

/** The key of a widget payment: its token. */
export function tokenKey(token: string): string {
  return token;
}

/** The key of an ePayment: `pidx:<pidx>`. */
export function pidxKey(pidx: string): string {
  return PIDX_PREFIX + pidx;
}

/** A fresh key for initiate's order check: `check:<uuid>`. */
export function checkKey(id: string = randomUUID()): string {
  return CHECK_PREFIX + id;
}

export function parseKey(key: string): LedgerKey {
  if (key.startsWith(PIDX_PREFIX)) return { kind: 'pidx', pidx: key.slice(PIDX_PREFIX.length) };
  if (key.startsWith(CHECK_PREFIX)) return { kind: 'check', id: key.slice(CHECK_PREFIX.length) };
  return { kind: 'token', token: key };
}

/** The pidx behind a key, or `null` when it is not an ePayment. */
export function pidxOf(key: string): string | null {
  const parsed = parseKey(key);
  return parsed.kind === 'pidx' ? parsed.pidx : null;
}

/** A key as log fields: `token` or `pidx` (each masked by the log), or `check`. */
export function keyFields(key: string): { token: string } | { pidx: string } | { check: string } {
  const parsed = parseKey(key);
  if (parsed.kind === 'pidx') return { pidx: parsed.pidx };
  if (parsed.kind === 'check') return { check: parsed.id };
  return { token: parsed.token };
}
