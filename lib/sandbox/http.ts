// The sandbox's HTTP plumbing: replies, body reading and parsing, sending, and header redaction.

import type http from 'node:http';
import { parse as parseQuery } from 'node:querystring';

/** What a room answers; `send` writes it. A string body is text, anything else JSON, `null` nothing. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type Query = Record<string, string | string[]>;
export type Body = Record<string, unknown>;

export const json = (status: number, body: unknown): Reply => ({ status, body });
export const html = (status: number, text: string): Reply => ({
  status,
  body: text,
  headers: { 'Content-Type': 'text/html; charset=utf-8' },
});
export const NOT_FOUND = json(404, { detail: 'Not found.' });

export const MAX_BODY_BYTES = 64 * 1024;
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type, Authorization',
  'Access-Control-Max-Age': '600',
};

export function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `Key [redacted]` for a `Key` header, `[redacted]` for any other scheme, `null` for none. */
export function redact(header: string | undefined): string | null {
  if (header === undefined) return null;
  return header.startsWith('Key ') ? 'Key [redacted]' : '[redacted]';
}

/** The body as text, or `null` when it is over `MAX_BODY_BYTES` (read to the end either way). */
export function readBody(req: http.IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Khalti accepts JSON and form bodies alike. */
export function parseBody(raw: string, contentType: string | undefined): Body | null {
  if (raw === '') return null;
  if (contentType?.includes('application/x-www-form-urlencoded')) return { ...parseQuery(raw) };
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Body) : null;
  } catch {
    return null;
  }
}

export function send(res: http.ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const isText = typeof reply.body === 'string';
  const text = reply.body === null ? '' : isText ? (reply.body as string) : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...(reply.body === null ? {} : { 'Content-Type': isText ? 'text/plain; charset=utf-8' : 'application/json' }),
    ...reply.headers,
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
