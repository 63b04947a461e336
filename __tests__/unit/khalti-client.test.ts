// KhaltiClient alone: exact requests, classified outcomes, bounded retries, no secret anywhere.
import http from 'node:http';
import { inspect } from 'node:util';
import axios from 'axios';
import nock from 'nock';
import { KhaltiClient } from '../../lib';
import { MAX_RESPONSE_BYTES } from '../../lib/khalti/client';
import { KHALTI_URL, SECRET_KEY } from '../helpers/app';
import { INVALID_PAYMENT_TOKEN, nockStatus, nockVerify, STATUS_BODIES, TOKEN, verifySuccess } from '../fixtures/khalti';

function client(extra: Partial<ConstructorParameters<typeof KhaltiClient>[0]> = {}) {
  const sleeps: number[] = [];
  const instance = new KhaltiClient({
    secretKey: SECRET_KEY,
    baseUrl: KHALTI_URL,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
  return { instance, sleeps };
}

describe('the test network guard', () => {
  it('refuses any call that no nock scope answers', async () => {
    const outcome = await client().instance.verify(TOKEN, 1000);
    expect(outcome).toEqual({ kind: 'unavailable', reason: 'network' });
    await expect(axios.get('https://khalti.com/')).rejects.toThrow(/Nock: Disallowed net connect/);
  });
});

describe('KhaltiClient.verify', () => {
  it('POSTs token and amount as JSON with the Key header, and classifies success', async () => {
    const scope = nockVerify().reply(200, verifySuccess());
    const outcome = await client().instance.verify(TOKEN, 1000);
    expect(scope.isDone()).toBe(true);
    expect(outcome).toEqual({ kind: 'completed', transactionId: '8xmeJnNXfoVjCvGcZiiGe7', amount: 1000, body: verifySuccess() });
  });

  it('classifies a rejected payment token', async () => {
    nockVerify().reply(400, INVALID_PAYMENT_TOKEN);
    expect(await client().instance.verify(TOKEN, 1000)).toEqual({ kind: 'rejected', httpStatus: 400, body: INVALID_PAYMENT_TOKEN });
  });

  it('never retries verify', async () => {
    const scope = nockVerify().reply(503);
    const { instance, sleeps } = client();
    expect(await instance.verify(TOKEN, 1000)).toEqual({ kind: 'unavailable', reason: 'server_error', httpStatus: 503 });
    expect(scope.isDone()).toBe(true);
    expect(sleeps).toEqual([]);
  });

  it('times out a hung call', async () => {
    nockVerify().delay(2_000).reply(200, verifySuccess());
    const started = Date.now();
    expect(await client({ timeoutMs: 100 }).instance.verify(TOKEN, 1000)).toEqual({ kind: 'unavailable', reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('refuses a response over 64 kB', async () => {
    nockVerify().reply(200, JSON.stringify({ ...verifySuccess(), pad: 'x'.repeat(MAX_RESPONSE_BYTES) }));
    expect(await client().instance.verify(TOKEN, 1000)).toEqual({ kind: 'unavailable', reason: 'bad_response' });
  });

  it('does not follow redirects', async () => {
    nockVerify().reply(301, '', { Location: `${KHALTI_URL}/elsewhere/` });
    const elsewhere = nock(KHALTI_URL).post('/elsewhere/').reply(200, verifySuccess());
    expect(await client().instance.verify(TOKEN, 1000)).toMatchObject({ kind: 'unavailable', reason: 'bad_response', httpStatus: 301 });
    expect(elsewhere.isDone()).toBe(false);
  });

  it('makes no call when the deadline has passed', async () => {
    expect(await client().instance.verify(TOKEN, 1000, { deadline: Date.now() - 1 })).toEqual({ kind: 'unavailable', reason: 'timeout' });
  });

  it('caps the call timeout at the deadline', async () => {
    nockVerify().delay(2_000).reply(200, verifySuccess());
    const started = Date.now();
    const outcome = await client({ timeoutMs: 10_000 }).instance.verify(TOKEN, 1000, { deadline: Date.now() + 200 });
    expect(outcome).toEqual({ kind: 'unavailable', reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('keeps the secret out of outcomes and out of inspect()', async () => {
    nockVerify().replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const { instance } = client();
    const outcome = await instance.verify(TOKEN, 1000);
    expect(outcome).toEqual({ kind: 'unavailable', reason: 'network' });
    expect(JSON.stringify(outcome)).not.toContain(SECRET_KEY);
    expect(inspect(instance, { depth: 10, showHidden: true })).not.toContain(SECRET_KEY.slice(16));
  });
});

describe('KhaltiClient.status', () => {
  it('GETs with token and amount in the query and the Key header', async () => {
    const scope = nockStatus().reply(200, STATUS_BODIES.Complete);
    expect(await client().instance.status(TOKEN, 1000)).toEqual({ kind: 'status', state: 'Complete', body: STATUS_BODIES.Complete });
    expect(scope.isDone()).toBe(true);
  });

  it('parses a state body sent with a 4xx', async () => {
    nockStatus().reply(404, STATUS_BODIES.Error);
    expect(await client().instance.status(TOKEN, 1000)).toMatchObject({ kind: 'status', state: 'Error' });
  });

  it('retries at most twice, with growing jittered backoff', async () => {
    const scope = nockStatus().times(3).reply(502);
    const { instance, sleeps } = client({ retryBaseMs: 100 });
    expect(await instance.status(TOKEN, 1000)).toEqual({ kind: 'unavailable', reason: 'server_error', httpStatus: 502 });
    expect(scope.isDone()).toBe(true);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeGreaterThanOrEqual(50);
    expect(sleeps[0]).toBeLessThanOrEqual(100);
    expect(sleeps[1]).toBeGreaterThanOrEqual(100);
    expect(sleeps[1]).toBeLessThanOrEqual(200);
  });

  it('stops retrying at the first usable answer', async () => {
    nockStatus().reply(503);
    const second = nockStatus().reply(200, STATUS_BODIES.Refunded);
    const { instance, sleeps } = client();
    expect(await instance.status(TOKEN, 1000)).toMatchObject({ kind: 'status', state: 'Refunded' });
    expect(second.isDone()).toBe(true);
    expect(sleeps).toHaveLength(1);
  });

  it('does not retry when the backoff would pass the deadline', async () => {
    nockStatus().reply(503);
    const { instance, sleeps } = client({ retryBaseMs: 5_000 });
    expect(await instance.status(TOKEN, 1000, { deadline: Date.now() + 1_000 })).toMatchObject({ kind: 'unavailable' });
    expect(sleeps).toEqual([]);
  });

  it('classifies our key being refused', async () => {
    nockStatus().reply(401, { detail: 'Invalid token.', status_code: 401 });
    expect(await client().instance.status(TOKEN, 1000)).toEqual({ kind: 'auth_failed', httpStatus: 401, detail: 'Invalid token.' });
  });

  it('waits with a real timer by default', async () => {
    nockStatus().reply(503);
    nockStatus().reply(200, STATUS_BODIES.Complete);
    const instance = new KhaltiClient({ secretKey: SECRET_KEY, retryBaseMs: 20 });
    const started = Date.now();
    expect(await instance.status(TOKEN, 1000)).toMatchObject({ state: 'Complete' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(9);
  });
});

describe('KhaltiClient deadline', () => {
  it('bounds the whole exchange, not just the idle time: an answer dripped byte by byte is cut at timeoutMs', async () => {
    // A server on loopback that sends its headers at once, then one byte every 40 ms: never idle long
    // enough for the socket's idle timeout, so only the call's own deadline can end it.
    const timers: NodeJS.Timeout[] = [];
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      timers.push(setInterval(() => res.write(' '), 40));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const slow = new KhaltiClient({ secretKey: SECRET_KEY, baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 300 });
      const started = Date.now();
      expect(await slow.verify(TOKEN, 1000)).toEqual({ kind: 'unavailable', reason: 'timeout' });
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(2_000);
    } finally {
      timers.forEach(clearInterval);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
