// khaltiVerifier's options: checked once at start-up, naming the option, never echoing the secret.
import { isKhaltiError, khaltiVerifier, KhaltiClient, MemoryStore, type KhaltiVerifierOptions } from '../../lib';
import { parseOptions } from '../../lib/options';
import { SECRET_KEY } from '../helpers/app';

const valid = (): KhaltiVerifierOptions => ({
  secretKey: SECRET_KEY,
  expectedAmount: () => 1000,
  onVerified: () => undefined,
});

function startupError(options: unknown): { code: string; message: string } {
  try {
    khaltiVerifier(options as KhaltiVerifierOptions);
  } catch (error) {
    expect(isKhaltiError(error)).toBe(true);
    const { code, message } = error as { code: string; message: string };
    expect(message).not.toContain(SECRET_KEY);
    return { code, message };
  }
  throw new Error('khaltiVerifier() did not throw');
}

describe('khaltiVerifier options', () => {
  const savedEnv = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = savedEnv;
  });

  it('builds a router exposing its client and store, with documented defaults', () => {
    const store = new MemoryStore();
    const router = khaltiVerifier({ ...valid(), store });
    expect(router.store).toBe(store);
    expect(router.client).toBeInstanceOf(KhaltiClient);
    expect((router.client as KhaltiClient).baseUrl).toBe('https://khalti.com');
    expect((router.client as KhaltiClient).timeoutMs).toBe(10_000);
    const config = parseOptions(valid());
    expect(config).toMatchObject({ path: '/khalti/verify', maxInFlight: 256, minAmount: 1000, bodyLimit: 16_384, leaseMs: 86_000 });
    // The default store is made by the composition root, not by option parsing.
    expect(config.store).toBeUndefined();
    expect(khaltiVerifier(valid()).store).toBeInstanceOf(MemoryStore);
  });

  it.each(['secretKey', 'expectedAmount', 'onVerified'])('requires %s', (name) => {
    const options: Record<string, unknown> = { ...valid() };
    delete options[name];
    const error = startupError(options);
    expect(error.code).toBe('invalid_option');
    expect(error.message).toContain(`\`${name}\` is required`);
  });

  it.each([
    ['secretKey', ''],
    ['secretKey', 42],
    ['expectedAmount', 1000],
    ['onVerified', 'yes'],
    ['onFailed', {}],
    ['store', { claim: () => null }],
    ['baseUrl', 'ftp://khalti.com'],
    ['baseUrl', 'not a url'],
    ['path', 'khalti/verify'],
    ['timeoutMs', 0],
    ['timeoutMs', '1000'],
    ['maxInFlight', 1.5],
    ['minAmount', -1],
    ['bodyLimit', 10],
    ['getOrderId', 'orderId'],
    ['logger', { warn: () => undefined }],
    ['leaseMs', 10],
  ])('rejects %s = %p, naming the option and the fix', (name, value) => {
    const error = startupError({ ...valid(), [name]: value });
    expect(error.code).toBe('invalid_option');
    expect(error.message).toContain(`option \`${name}`);
    expect(error.message).toMatch(/: .{10,}\.$/);
  });

  it('never echoes a secret key given with the wrong type', () => {
    const error = startupError({ ...valid(), secretKey: [SECRET_KEY] });
    expect(error.message).toContain('`secretKey`');
  });

  it('rejects unknown options and suggests the near miss', () => {
    expect(startupError({ ...valid(), secretkey: 'x' }).message).toContain('Did you mean `secretKey`?');
    expect(startupError({ ...valid(), timeout: 5 }).message).toContain('Did you mean `timeoutMs`?');
    const far = startupError({ ...valid(), colour: 'blue' });
    expect(far.message).toContain('unknown option `colour`');
    expect(far.message).toContain('Known options:');
  });

  it('rejects options that are not an object', () => {
    expect(startupError(null).code).toBe('invalid_option');
    expect(startupError('key').code).toBe('invalid_option');
  });

  it('ignores undefined values and never mutates the caller’s object', () => {
    const options = Object.freeze({ ...valid(), baseUrl: undefined, onFailed: undefined });
    const router = khaltiVerifier(options);
    expect((router.client as KhaltiClient).baseUrl).toBe('https://khalti.com');
    expect(Object.keys(options)).toEqual(['secretKey', 'expectedAmount', 'onVerified', 'baseUrl', 'onFailed']);
  });

  it('requires a store in production, reading NODE_ENV when called', () => {
    process.env.NODE_ENV = 'production';
    const error = startupError(valid());
    expect(error.code).toBe('store_required');
    expect(error.message).toContain('`store`');
    for (const store of ['SqliteStore', 'PostgresStore', 'RedisStore', 'khalti-express/stores/sqlite'])
      expect(error.message).toContain(store);
    expect(() => khaltiVerifier({ ...valid(), store: new MemoryStore() })).not.toThrow();
    process.env.NODE_ENV = 'development';
    expect(() => khaltiVerifier(valid())).not.toThrow();
  });

  it('derives the lease from the timeout', () => {
    expect(parseOptions({ ...valid(), timeoutMs: 30_000 }).leaseMs).toBe(2 * (4 * 30_000 + 1_000 + 2_000));
    expect(parseOptions({ ...valid(), leaseMs: 5_000 }).leaseMs).toBe(5_000);
  });

  it('uses console warn/error only by default', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const info = jest.spyOn(console, 'info').mockImplementation(() => undefined);
    try {
      const config = parseOptions(valid());
      config.logger.warn('w');
      expect(warn).toHaveBeenCalledWith('w');
      expect(config.logger.info).toBeUndefined();
    } finally {
      warn.mockRestore();
      info.mockRestore();
    }
  });
});

describe('KhaltiClient options', () => {
  it('validates its own options the same way', () => {
    expect(() => new KhaltiClient({ secretKey: '' })).toThrow(/`secretKey` is invalid/);
    expect(() => new KhaltiClient({ secretKey: SECRET_KEY, timeoutMs: -5 })).toThrow(/`timeoutMs`/);
    expect(() => new KhaltiClient({ secretKey: SECRET_KEY, baseUrl: 'https://dev.khalti.com/' }).baseUrl).not.toThrow();
    expect(new KhaltiClient({ secretKey: SECRET_KEY, baseUrl: 'https://dev.khalti.com/' }).baseUrl).toBe('https://dev.khalti.com');
  });
});
