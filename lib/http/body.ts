// Request bodies: JSON or form posts only, read by our own parsers with our limits, and every parser
// error turned into the contract's response (nothing reaches Express' HTML error page).

import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { KhaltiError } from '../errors';
import type { Log } from '../log';
import { sendError } from './respond';

const ACCEPTED_TYPES = ['application/json', 'application/x-www-form-urlencoded'];

/** Refuse a missing body (400) or any type other than JSON and form posts (415) before reading it. */
const requireFormOrJson: RequestHandler = (req, res, next) => {
  const type = req.is(ACCEPTED_TYPES);
  if (type) return next();
  const empty = type === null || (req.headers['content-type'] === undefined && req.headers['content-length'] === '0');
  if (empty) return sendError(res, new KhaltiError('invalid_request', { details: ['body'] }));
  sendError(
    res,
    new KhaltiError('invalid_request', {
      statusCode: 415,
      message: 'Send the body as application/json or application/x-www-form-urlencoded.',
    }),
  );
};

/** The content-type gate and the two parsers, limited to `bodyLimit` bytes (whether or not the app parsed the body). */
export function bodyParsers(bodyLimit: number): RequestHandler[] {
  return [
    requireFormOrJson,
    express.json({ limit: bodyLimit, strict: true, type: 'application/json' }),
    express.urlencoded({ limit: bodyLimit, extended: false, parameterLimit: 64, type: 'application/x-www-form-urlencoded' }),
  ];
}

/** body-parser's errors → contract responses. */
export function bodyErrorHandler(log: Log): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    const type = typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
    switch (type) {
      case 'entity.too.large':
        return sendError(res, new KhaltiError('request_too_large'));
      case 'entity.parse.failed':
      case 'parameters.too.many':
        return sendError(res, new KhaltiError('invalid_request', { details: ['body'] }));
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return sendError(res, new KhaltiError('invalid_request', { statusCode: 415, message: 'Unsupported body encoding or charset.' }));
      default:
        log('error', 'could not read the request body', { type: typeof type === 'string' ? type : undefined });
        return sendError(res, new KhaltiError('invalid_request', { details: ['body'] }));
    }
  };
}
