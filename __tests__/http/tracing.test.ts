// OpenTelemetry spans (tracing: true), read from an in-memory exporter: one span per verification attempt
// with its outcome and the contract code as the error status, a child span per Khalti call with the HTTP
// client attributes, and no token anywhere in any exported span (the status call's URL included).
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { assertNoSecretLeaked, createShop, SECRET_KEY } from '../helpers/app';
import { useSandbox } from '../helpers/sandbox';

const sandbox = useSandbox({ secretKey: SECRET_KEY });
const exporter = new InMemorySpanExporter();

beforeAll(() => {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
});
afterAll(() => trace.disable());
afterEach(() => {
  exporter.reset();
  assertNoSecretLeaked();
});

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const attempts = () => exporter.getFinishedSpans().filter((s) => s.name === 'khalti verify payment');
const calls = () => exporter.getFinishedSpans().filter((s) => s.name !== 'khalti verify payment');

describe('tracing: true', () => {
  it('a verified widget payment: one attempt span, its verify call a child with HTTP client attributes', async () => {
    const shop = createShop({ baseUrl: sandbox.baseUrl, tracing: true });
    const { token } = sandbox.pay({ amount: 1000 });
    expect((await shop.post({ token, amount: 1000, orderId: 'A-17' })).status).toBe(200);
    const [attempt] = attempts();
    expect(attempts()).toHaveLength(1);
    expect(attempt!.attributes).toEqual({
      'khalti.source': 'request',
      'khalti.outcome': 'verified',
      'khalti.flow': 'widget',
      'khalti.order_id': 'A-17',
    });
    expect(attempt!.status.code).toBe(0);
    const [call] = calls();
    expect(call!.name).toBe('POST /api/v2/payment/verify/');
    expect(call!.kind).toBe(2); // CLIENT
    expect(parentOf(call!)).toBe(attempt!.spanContext().spanId);
    const { hostname, port } = new URL(sandbox.baseUrl);
    expect(call!.attributes).toEqual({
      'http.request.method': 'POST',
      'url.template': '/api/v2/payment/verify/',
      'khalti.endpoint': 'verify',
      'server.address': hostname,
      'server.port': Number(port),
      'url.full': `${sandbox.baseUrl}/api/v2/payment/verify/`,
      'http.response.status_code': 200,
      'khalti.outcome': 'completed',
    });
    expect(JSON.stringify(exporter.getFinishedSpans().map(spanView))).not.toContain(token);
  });

  it('Khalti down, then the status API: error status with the contract code, and no token in the status call’s URL', async () => {
    const shop = createShop({ baseUrl: sandbox.baseUrl, tracing: true });
    const { token } = sandbox.pay({ amount: 1000 });
    sandbox.faults.inject('server_error', { on: 'server', times: 10 });
    expect((await shop.post({ token, amount: 1000, orderId: 'A-17' })).status).toBe(502);
    const [attempt] = attempts();
    expect(attempt!.status).toEqual({ code: 2, message: 'gateway_error' });
    expect(attempt!.attributes['error.type']).toBe('gateway_error');
    expect(calls().map((s) => s.name)).toEqual(['POST /api/v2/payment/verify/', 'GET /api/v2/payment/status/']);
    const status = calls()[1]!;
    expect(status.attributes['url.full']).toBe(`${sandbox.baseUrl}/api/v2/payment/status/`);
    expect(status.attributes['http.response.status_code']).toBe(503);
    expect(status.status.code).toBe(2);
    for (const span of calls()) expect(parentOf(span)).toBe(attempt!.spanContext().spanId);
    // Nothing exported holds the token (names, attributes, events, links).
    expect(JSON.stringify(exporter.getFinishedSpans().map(spanView))).not.toContain(token);
  });

  it('reconcile() attempts are spans too; a refund is a child of nothing but still a client span', async () => {
    const shop = createShop({ baseUrl: sandbox.baseUrl, tracing: true });
    const { token } = sandbox.pay({ amount: 1000, state: 'Completed' });
    await shop.router.store.claim({ token, orderId: 'A-17', amount: 1000, owner: 'gone', now: Date.now() - 10_000, leaseMs: 1 });
    await shop.router.reconcile();
    expect(attempts().map((s) => s.attributes['khalti.source'])).toEqual(['reconcile']);
    expect(calls().map((s) => s.name)).toEqual(['GET /api/v2/payment/status/']);
    exporter.reset();
    const paid = sandbox.pay({ amount: 2500 });
    expect((await shop.post({ token: paid.token, amount: 2500, orderId: 'B-2' })).status).toBe(200);
    exporter.reset();
    await shop.router.refund({ token: paid.token }, { amount: 100 });
    expect(calls().map((s) => [s.name, parentOf(s), s.attributes['http.response.status_code']])).toEqual([
      ['POST /api/merchant-transaction/{transaction_id}/refund/', undefined, 200],
    ]);
  });

  it('is off by default', async () => {
    const shop = createShop({ baseUrl: sandbox.baseUrl });
    const { token } = sandbox.pay({ amount: 1000 });
    await shop.post({ token, amount: 1000, orderId: 'A-17' });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

function spanView(span: ReadableSpan) {
  return { name: span.name, attributes: span.attributes, events: span.events, links: span.links, status: span.status };
}
