// An amount an operator typed, in rupees ("150", "12.50", "1,200.5"), as exact paisa: decimal string
// arithmetic, never a float times 100.

/** Paisa, or `null` for anything that is not a positive rupee amount with at most two decimals. */
export function parseRupees(text: string): number | null {
  const match = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!match) return null;
  const whole = match[1]!.replaceAll(',', '');
  const paisa = Number(whole) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  return Number.isSafeInteger(paisa) && paisa > 0 && whole.length <= 14 ? paisa : null;
}
