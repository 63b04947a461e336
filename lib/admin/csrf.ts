// Cross-site request protection for the admin's POSTs: a double-submit cookie (a random token in an
// HttpOnly, SameSite=Strict cookie, repeated in every form) and, when the browser sends one, an Origin
// (or Referer) that must be this host. A POST failing either is refused before anything runs.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

export const CSRF_COOKIE = 'khx_admin_csrf';
export const FLASH_COOKIE = 'khx_admin_flash';

/** The request's cookies (no cookie-parser needed). */
export function cookies(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const name = part.slice(0, at).trim();
    try {
      out[name] = decodeURIComponent(part.slice(at + 1).trim());
    } catch {
      // a malformed cookie is ignored
    }
  }
  return out;
}

function cookieFlags(req: Request): string {
  return `Path=${req.baseUrl || '/'}; HttpOnly; SameSite=Strict${req.secure ? '; Secure' : ''}`;
}

/** Append a Set-Cookie header (keeping any already set). */
export function setCookie(res: Response, req: Request, name: string, value: string, maxAgeSeconds?: number): void {
  const cookie = `${name}=${encodeURIComponent(value)}; ${cookieFlags(req)}${maxAgeSeconds === undefined ? '' : `; Max-Age=${maxAgeSeconds}`}`;
  const previous = res.getHeader('Set-Cookie');
  res.setHeader('Set-Cookie', [...(Array.isArray(previous) ? previous : previous ? [String(previous)] : []), cookie]);
}

/** The CSRF token for this browser: the cookie's, or a new one (set on the response). */
export function csrfToken(req: Request, res: Response): string {
  const existing = cookies(req)[CSRF_COOKIE];
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = randomBytes(32).toString('base64url');
  setCookie(res, req, CSRF_COOKIE, token);
  return token;
}

/** Why a POST is refused, or `null` when it passes the check. */
export function csrfRefusal(req: Request): string | null {
  const cookie = cookies(req)[CSRF_COOKIE];
  const sent = (req.body as Record<string, unknown> | undefined)?.csrf;
  if (!cookie || typeof sent !== 'string' || sent.length !== cookie.length) return 'the form’s security token is missing';
  if (!timingSafeEqual(Buffer.from(sent), Buffer.from(cookie))) return 'the form’s security token does not match';
  // The host only: behind a TLS proxy the app may see http while the browser says https.
  const from = req.headers.origin ?? req.headers.referer;
  if (from !== undefined && hostOf(from) !== req.headers.host) return 'the request came from another site';
  return null;
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}
