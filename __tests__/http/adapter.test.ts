// The one adapter every route uses (verify, initiate, return): a flow result is sent as the contract says,
// and an unexpected error is logged the same way everywhere and answered internal_error, never twice.
import express from 'express';
import request from 'supertest';
import { KhaltiError } from '../../lib';
import type { Result } from '../../lib/flow/result';
import { handle } from '../../lib/http/adapter';
import type { Log } from '../../lib/log';

function recordingLog(): { log: Log; lines: string[] } {
  const lines: string[] = [];
  const log = ((level: string, event: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${event} ${JSON.stringify(fields ?? {})}`);
  }) as Log;
  return { log, lines };
}

describe('the route adapter', () => {
  it('sends a success as 200 JSON and a failure with its status and code', async () => {
    const { log } = recordingLog();
    const app = express();
    app.get(
      '/ok',
      handle(log, 'test', async (): Promise<Result<{ orderId: string }>> => ({ ok: true, body: { orderId: 'A-17' }, orderId: 'A-17' })),
    );
    app.get(
      '/no',
      handle(log, 'test', async (): Promise<Result<object>> => ({ ok: false, error: new KhaltiError('order_not_found'), orderId: 'A-17' })),
    );
    expect((await request(app).get('/ok')).body).toEqual({ orderId: 'A-17' });
    const refused = await request(app).get('/no');
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('order_not_found');
  });

  it('logs an unexpected error at error level with the route name, and answers internal_error', async () => {
    const { log, lines } = recordingLog();
    const app = express();
    app.post(
      '/khalti/initiate',
      handle(log, 'initiate', async () => {
        throw new TypeError('secret detail test_secret_key_abc');
      }),
    );
    const response = await request(app).post('/khalti/initiate');
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ ok: false, error: { code: 'internal_error', message: expect.any(String) } });
    expect(JSON.stringify(response.body)).not.toContain('secret detail');
    expect(lines).toEqual(['error unexpected error in the initiate handler {"error":"TypeError"}']);
  });

  it('does not answer twice when the error comes after the headers went out', async () => {
    const { log, lines } = recordingLog();
    const app = express();
    app.get(
      '/khalti/return',
      handle(
        log,
        'return',
        async (): Promise<Result<object>> => ({ ok: true, body: {}, orderId: 'A-17' }),
        (res) => {
          res.status(302).set('Location', '/orders/A-17').end();
          throw new Error('after the redirect');
        },
      ),
    );
    const response = await request(app).get('/khalti/return').redirects(0);
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/orders/A-17');
    expect(lines).toEqual(['error unexpected error in the return handler {"error":"Error"}']);
  });
});
