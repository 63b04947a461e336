// An amount an operator typed, in rupees ("150", "12.50", "1,200.5"), as exact paisa (toPaisa).

import { toPaisa } from '../money';

/** Paisa, or `null` for anything that is not a positive rupee amount with at most two decimals. */
export function parseRupees(text: string): number | null {
  try {
    const paisa = toPaisa(text);
    return paisa > 0 ? paisa : null;
  } catch {
    return null;
  }
}
