// How MemoryStore holds a record (its JSON fields as text) and hands out copies.

import type { PaymentRecord } from './store';

/**
 * Held records keep `khalti` and `response` as JSON text, as every durable store does: no caller can
 * mutate it, and the garbage collector has one string to skip instead of an object graph to walk on
 * every collection (which, with tens of thousands of records held, costs throughput).
 */
export function toText(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

/** A caller's copy of a held record: its own object, with the JSON fields parsed afresh. */
export function copy(record: PaymentRecord): PaymentRecord {
  return {
    ...record,
    khalti: typeof record.khalti === 'string' ? JSON.parse(record.khalti) : null,
    response: typeof record.response === 'string' ? JSON.parse(record.response) : null,
    refund: record.refund ? { ...record.refund } : null,
    refunds: record.refunds.map((entry) => ({ ...entry })),
  };
}
