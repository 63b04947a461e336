// How MemoryStore holds a record (its JSON fields as UTF-8 bytes, off the JavaScript heap) and hands out copies.

import type { PaymentRecord } from './store';

/**
 * Held records keep `khalti` and `response` as JSON in a `Buffer`, as every durable store keeps them
 * as text: no caller can mutate them, and they sit outside the JavaScript heap. They are most of a
 * record's bytes; on the heap they were walked by every collection and, worse, multiplied: V8 lets the
 * heap grow to a multiple of what is live before it collects, so under a flood a MemoryStore with tens of
 * thousands of records peaked about 30 MB higher in RSS (266 MB against 235 MB, mean of five and four
 * floods, docs/performance.md). A held record costs about 670 bytes of heap instead of 1,330.
 */
export function toBytes(value: unknown): Buffer | null {
  return value === undefined || value === null ? null : Buffer.from(JSON.stringify(value), 'utf8');
}

const parsed = (held: unknown): unknown => (Buffer.isBuffer(held) ? JSON.parse(held.toString('utf8')) : null);

/** A caller's copy of a held record: its own object, with the JSON fields parsed afresh. */
export function copy(record: PaymentRecord): PaymentRecord {
  return {
    ...record,
    khalti: parsed(record.khalti),
    response: parsed(record.response),
    refund: record.refund ? { ...record.refund } : null,
    refunds: record.refunds.map((entry) => ({ ...entry })),
  };
}
