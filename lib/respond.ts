// Outcomes → HTTP responses: the one place that writes the endpoint's JSON bodies.

import type { Response } from 'express';
import { isKhaltiError, KhaltiError } from './errors';

/** The failure body of the contract. */
export interface ErrorBody {
  ok: false;
  error: { code: string; message: string; details?: string[] };
}

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: ErrorBody;
}

/**
 * Render any error as the contract's failure response. A `KhaltiError` keeps its code, status and
 * message; anything else becomes `internal_error` (its message could hold anything, so it is dropped).
 */
export function renderError(error: unknown): RenderedError {
  const known = isKhaltiError(error) ? error : new KhaltiError('internal_error');
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  if (known.retryAfter !== undefined) headers['Retry-After'] = String(known.retryAfter);
  const body: ErrorBody = { ok: false, error: { code: known.code, message: known.message } };
  if (known.details !== undefined) body.error.details = known.details;
  return { status: known.statusCode, headers, body };
}

/** Send `renderError(error)` on an Express response. */
export function sendError(res: Response, error: unknown): void {
  const { status, headers, body } = renderError(error);
  res.status(status).set(headers).json(body);
}

/** Send a 200 body. */
export function sendSuccess(res: Response, body: object): void {
  res.status(200).set('Cache-Control', 'no-store').json(body);
}
