// Outcomes → HTTP responses: the one place that writes the endpoint's JSON bodies.

import type { ServerResponse } from 'node:http';
import { isKhaltiError, KhaltiError } from '../errors';

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

/** Send `renderError(error)` on an Express (or plain Node) response. */
export function sendError(res: ServerResponse, error: unknown): void {
  const { status, headers, body } = renderError(error);
  writeJson(res, status, headers, JSON.stringify(body));
}

/** Send a 200 body. */
export function sendSuccess(res: ServerResponse, body: object): void {
  writeJson(res, 200, NO_STORE, JSON.stringify(body));
}

/**
 * A response rendered once, sent many times: for the hot refusals (`overloaded`) a flood repeats,
 * so each costs a header write and nothing else.
 */
export function prerenderError(error: KhaltiError): (res: ServerResponse) => void {
  const { status, headers, body } = renderError(error);
  const json = JSON.stringify(body);
  return (res) => writeJson(res, status, headers, json);
}

const NO_STORE: Readonly<Record<string, string>> = Object.freeze({ 'Cache-Control': 'no-store' });

/**
 * Write a JSON body with Node's own `writeHead`/`end`, not Express' `res.json()`: that hashes every
 * body for an ETag, which a `no-store` payment answer has no use for and which showed in the bench's
 * CPU profile. Headers the app set earlier (CORS, request ids) are kept; ours win on a clash.
 */
function writeJson(res: ServerResponse, status: number, headers: Readonly<Record<string, string>>, json: string): void {
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(json)),
  });
  res.end(json);
}
