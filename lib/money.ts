// Money helpers: rupees to integer paisa exactly (decimal string arithmetic, never `x * 100` on a float:
// in JavaScript 19.99 * 100 is 1998.9999…), and paisa formatted for Nepal.

import { KhaltiError } from './errors';

const WESTERN = /^\d{1,3}(?:,\d{3})+$/;
const LAKH = /^\d{1,2}(?:,\d{2})*,\d{3}$/;

function refuse(value: unknown, why: string): never {
  throw new KhaltiError('invalid_option', {
    message: `toPaisa(${JSON.stringify(typeof value === 'number' ? String(value) : value)}): ${why}`,
  });
}

/**
 * Integer paisa for a rupee amount: a string (`"19.99"`, `"1,200.50"`, `"12,34,567.5"`) or a number
 * (read as the decimal it prints as: `19.99` is 1999). Throws a `KhaltiError` (`invalid_option`) for more
 * than two decimals, a negative, NaN or Infinity, text that is not an amount, or more than
 * `Number.MAX_SAFE_INTEGER` paisa.
 */
export function toPaisa(rupees: string | number): number {
  let text: string;
  if (typeof rupees === 'number') {
    if (!Number.isFinite(rupees)) refuse(rupees, 'not a finite number');
    if (rupees < 0 || Object.is(rupees, -0)) refuse(rupees, 'a negative amount');
    text = String(rupees);
    // String() uses an exponent below 1e-6 and from 1e21: the one too precise, the other too large.
    if (text.includes('e')) refuse(rupees, rupees < 1 ? 'more than two decimals' : 'more than Number.MAX_SAFE_INTEGER paisa');
  } else if (typeof rupees === 'string') {
    text = rupees.trim();
  } else {
    return refuse(rupees, 'give a string or a number');
  }
  if (text.startsWith('-')) refuse(rupees, 'a negative amount');
  const match = /^([\d,]+)?(?:\.(\d*))?$/.exec(text);
  if (!match || (match[1] === undefined && !match[2])) refuse(rupees, 'not a rupee amount');
  const [, whole = '0', fraction = ''] = match;
  if (whole.includes(',') && !WESTERN.test(whole) && !LAKH.test(whole)) refuse(rupees, 'misplaced thousands separators');
  if (fraction.length > 2) refuse(rupees, 'more than two decimals (a paisa is the smallest unit)');
  const paisa = BigInt(whole.replaceAll(',', '')) * 100n + BigInt(fraction.padEnd(2, '0'));
  if (paisa > BigInt(Number.MAX_SAFE_INTEGER)) refuse(rupees, 'more than Number.MAX_SAFE_INTEGER paisa');
  return Number(paisa);
}

export interface FormatRupeesOptions {
  /** `lakh` (Nepal's: `12,34,567.00`, the default) or `western` (`1,234,567.00`). */
  grouping?: 'lakh' | 'western';
}

/** Paisa as rupees for people in Nepal: `Rs 1,200.50`, `Rs 12,34,567.00` (lakh grouping by default). */
export function formatRupees(paisa: number, options: FormatRupeesOptions = {}): string {
  if (!Number.isSafeInteger(paisa))
    throw new KhaltiError('invalid_option', { message: `formatRupees(${String(paisa)}): paisa must be a safe integer` });
  const digits = String(Math.abs(paisa)).padStart(3, '0');
  const whole = digits.slice(0, -2);
  const grouped =
    options.grouping === 'western'
      ? whole.replace(/\B(?=(\d{3})+$)/g, ',')
      : whole.length <= 3
        ? whole
        : `${whole.slice(0, -3).replace(/\B(?=(\d{2})+$)/g, ',')},${whole.slice(-3)}`;
  return `${paisa < 0 ? '-' : ''}Rs ${grouped}.${digits.slice(-2)}`;
}
