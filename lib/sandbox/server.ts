// The sandbox's server: each request is read, recorded, put through any armed fault, and routed.

import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import { checkoutPage } from './checkout-page';
import type { SandboxContext } from './context';
import { hostedPage } from './epayment-api';
import { CORS_HEADERS, first, json, NOT_FOUND, parseBody, readBody, redact, send, type Query } from './http';
import { CLIENT_API, endpointOf, route } from './route-table';

async function handle(context: SandboxContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const method = req.method ?? 'GET';
  const query = parseQuery(url.search.slice(1)) as Query;
  const cors = CLIENT_API.has(url.pathname) ? CORS_HEADERS : {};
  if (method === 'OPTIONS') return send(res, { status: 204, body: null, headers: { ...CORS_HEADERS } });
  if (method === 'GET' && url.pathname === '/checkout') {
    const page = checkoutPage({
      publicKey: first(query.public_key) ?? context.publicKey,
      amount: first(query.amount) ?? '1000',
      productIdentity: first(query.product_identity) ?? '',
      productName: first(query.product_name) ?? 'Your order',
      productUrl: first(query.product_url) ?? '',
    });
    return send(res, { status: 200, body: page, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
  }
  const raw = await readBody(req);
  if (raw === null) return send(res, json(413, { detail: 'Request body too large.' }));
  const body = parseBody(raw, req.headers['content-type']);
  if (url.pathname.startsWith('/epayment/')) return send(res, hostedPage(context, method, url.pathname, query, body) ?? NOT_FOUND);
  const authorization = req.headers.authorization;
  if (context.recordRequests) {
    context.requests.push({ method, path: url.pathname, query, body, authorization: redact(authorization), at: Date.now() });
  }

  const fault = context.faults.take(endpointOf(url.pathname));
  if (context.faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, context.faults.latencyMs));
  const call = { method, path: url.pathname, query, body, fault, authorization };
  switch (fault?.kind) {
    case 'hang':
      return;
    case 'drop':
      req.socket.destroy();
      return;
    case 'server_error':
      return send(res, { status: fault.status ?? 503, body: { detail: 'Service temporarily unavailable.' }, headers: cors });
    case 'non_json': {
      const page = '<html><body><h1>Service temporarily unavailable</h1></body></html>';
      return send(res, { status: 200, body: page, headers: { 'Content-Type': 'text/html' } });
    }
    case 'unauthorized':
      return send(res, json(401, { detail: 'Invalid token.', status_code: 401 }));
    case 'lost_reply':
      route(context, { ...call, fault: undefined });
      return;
    default: {
      const reply = route(context, call);
      return send(res, { ...reply, headers: { ...cors, ...reply.headers } });
    }
  }
}

export interface ListeningServer {
  baseUrl: string;
  /** Stop listening and drop every open connection (hung ones included). */
  close(): Promise<void>;
}

/** Listen on `host:port` and serve the context's rooms. */
export async function listen(context: SandboxContext, port: number, host: string): Promise<ListeningServer> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    handle(context, req, res).catch(() => send(res, json(500, { detail: 'Sandbox error.' })));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    baseUrl: `http://${shown}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
