// How Khalti writes things the sandbox must write the same way: Nepal time and masked mobiles.

/** Nepal is UTC+05:45. */
const NEPAL_OFFSET_MS = (5 * 60 + 45) * 60_000;

/**
 * A time in Nepal, as Khalti writes it: `2026-12-03T14:05:09.123+05:45` (`ms`), or with microseconds,
 * `2026-12-03T14:05:09.123000+05:45` (`us`), as its transaction records carry in `created_on`.
 */
export function nepalTime(epochMs: number, precision: 'ms' | 'us' = 'ms'): string {
  const local = new Date(epochMs + NEPAL_OFFSET_MS).toISOString().replace('Z', '');
  return `${precision === 'us' ? `${local.padEnd(23, '0')}000` : local}+05:45`;
}

/** A mobile as Khalti shows it to a merchant: `98XXXXXXX0`. */
export function maskMobile(mobile: string): string {
  return `${mobile.slice(0, 2)}XXXXXXX${mobile.slice(-1)}`;
}
