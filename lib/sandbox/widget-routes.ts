// Browser-test routing for Khalti's genuine widget: its hard-coded hosts go to the installed package's
// files and to a sandbox; every other host is aborted and recorded. Works with a Playwright context.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The slice of Playwright's Route this needs. */
export interface RouteLike {
  request(): { url(): string; method(): string; headers(): Record<string, string>; postData(): string | null };
  fulfill(response: { status: number; headers?: Record<string, string>; body?: string | Buffer; contentType?: string }): Promise<void>;
  continue(): Promise<void>;
  abort(): Promise<void>;
}

/** The slice of Playwright's BrowserContext (or Page) this needs. */
export interface RoutableLike {
  route(url: string | RegExp, handler: (route: RouteLike) => unknown): Promise<unknown>;
}

export interface WidgetRoutesOptions {
  /** Where the sandbox listens (`sandbox.baseUrl`): Khalti's `https://khalti.com` API goes there. */
  sandboxUrl: string;
  /** The installed `khalti-checkout-web` package's `dist/` folder. Defaults to resolving it. */
  widgetDist?: string;
  /** Hosts allowed through untouched. Defaults to `127.0.0.1` and `localhost`. */
  allowHosts?: string[];
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'application/javascript',
  '.html': 'text/html',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
};

/**
 * Route a browser context so Khalti's widget runs offline against the sandbox:
 * `https://khalti.s3.ap-south-1.amazonaws.com/KPG/dist/<version>/…` → the package's `dist/`;
 * Google Fonts → empty; `https://khalti.com/…` → the sandbox (with CORS); anything else not allowed →
 * aborted and listed in the returned `offHost` (assert it is empty: the test really ran offline).
 */
export async function routeKhaltiWidget(context: RoutableLike, options: WidgetRoutesOptions): Promise<{ offHost: string[] }> {
  const dist = widgetDistFolder(options.widgetDist);
  const allowed = new Set(options.allowHosts ?? ['127.0.0.1', 'localhost']);
  const offHost: string[] = [];
  // Registered first so that it loses to the specific routes below (Playwright: the last registered wins).
  await context.route('**/*', (route) => {
    if (allowed.has(new URL(route.request().url()).hostname)) return route.continue();
    offHost.push(route.request().url());
    return route.abort();
  });
  await context.route('https://khalti.s3.ap-south-1.amazonaws.com/KPG/dist/**', (route) => {
    const file = new URL(route.request().url()).pathname.replace(/^\/KPG\/dist\/[^/]+\//, '');
    const full = path.join(dist, file);
    if (!full.startsWith(dist + path.sep) || !existsSync(full)) return route.fulfill({ status: 404, body: '' });
    return route.fulfill({
      status: 200,
      body: readFileSync(full),
      contentType: CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    });
  });
  await context.route(/^https:\/\/fonts\.(googleapis|gstatic)\.com\//, (route) =>
    route.request().url().includes('googleapis')
      ? route.fulfill({ status: 200, body: '', contentType: 'text/css' })
      : route.fulfill({ status: 404, body: '' }),
  );
  await context.route('https://khalti.com/**', async (route) => {
    const request = route.request();
    if (request.method() === 'OPTIONS') return route.fulfill({ status: 204, headers: CORS, body: '' });
    const url = new URL(request.url());
    const type = request.headers()['content-type'];
    const response = await fetch(`${options.sandboxUrl}${url.pathname}${url.search}`, {
      method: request.method(),
      headers: type ? { 'content-type': type } : {},
      body: request.method() === 'GET' ? undefined : (request.postData() ?? undefined),
    });
    return route.fulfill({
      status: response.status,
      headers: { ...CORS, 'content-type': 'application/json' },
      body: await response.text(),
    });
  });
  return { offHost };
}

const WIDGET_ENTRY = 'khalti-checkout-web/dist/khalti-checkout.iffe.js';

/**
 * The widget's `dist/` folder: `widgetDist` when given, else the installed `khalti-checkout-web`
 * (an optional peer dependency). Missing either way: an error that says what to install or pass.
 */
export function widgetDistFolder(widgetDist?: string, resolve: (id: string) => string = require.resolve): string {
  if (widgetDist !== undefined) {
    if (!existsSync(path.join(widgetDist, 'khalti-checkout.iffe.js'))) {
      throw new Error(
        `routeKhaltiWidget: option \`widgetDist\` (${widgetDist}) holds no khalti-checkout.iffe.js; pass the \`dist/\` folder of khalti-checkout-web`,
      );
    }
    return widgetDist;
  }
  try {
    return path.dirname(resolve(WIDGET_ENTRY));
  } catch {
    throw new Error(
      'routeKhaltiWidget: the khalti-checkout-web package is not installed. Install it as a dev dependency ' +
        '(`npm install --save-dev khalti-checkout-web`), or pass option `widgetDist` (the folder holding khalti-checkout.iffe.js)',
    );
  }
}
