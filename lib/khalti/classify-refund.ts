// Khalti's refund answers → typed outcomes. Pure functions, no I/O. Khalti documents only the success
// body, so anything else that is not a clear JSON answer from Khalti is "outcome unknown": a refund is
// money leaving the shop, and a guess must never let it leave twice.

import { authFailure, isServerTrouble, parseObject, type AuthFailed, type RawResponse, type Unavailable } from './classify';

/** What `POST /api/merchant-transaction/{transaction_id}/refund/` takes: nothing for a full refund. */
export interface RefundRequest {
  /** Paisa, for a partial refund. */
  amount?: number;
  /** The customer's Khalti ID, for a bank payment. */
  mobile?: string;
}

export type RefundOutcome =
  /** HTTP 200 with a JSON body: Khalti made the refund. */
  | { kind: 'refunded'; body: Record<string, unknown> }
  /** A JSON 4xx (other than 401/403): Khalti will not refund; `messages` are its words. */
  | { kind: 'rejected'; httpStatus: number; messages: string[]; body: Record<string, unknown> }
  | AuthFailed
  | Unavailable;

export function classifyRefund(response: RawResponse): RefundOutcome {
  const body = parseObject(response.text);
  const auth = authFailure(response, body);
  if (auth) return auth;
  if (isServerTrouble(response.status)) return { kind: 'unavailable', reason: 'server_error', httpStatus: response.status };
  // A proxy's HTML page, or a 200 we cannot read, says nothing about the refund.
  if (body === null) return { kind: 'unavailable', reason: 'bad_response', httpStatus: response.status };
  if (response.status === 200) return { kind: 'refunded', body };
  if (response.status >= 400 && response.status < 500) {
    return { kind: 'rejected', httpStatus: response.status, messages: messagesOf(body), body };
  }
  return { kind: 'unavailable', reason: 'bad_response', httpStatus: response.status };
}

/** Khalti's words in an error body: `detail`, and each field's messages, as short strings. */
export function messagesOf(body: Record<string, unknown>): string[] {
  const messages: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (key === 'error_key' || key === 'status_code') continue;
    const texts = Array.isArray(value) ? value : [value];
    for (const text of texts) if (typeof text === 'string' && text !== '') messages.push(key === 'detail' ? text : `${key}: ${text}`);
  }
  return messages.slice(0, 5).map((message) => message.slice(0, 200));
}
