// The start-up guard rails: each warning fires for its mistake, once, through the logger, never with
// the key's value; and none fires for a normal set-up.
import { khaltiVerifier, MemoryStore } from '../../lib';
import { createHash, randomBytes } from 'node:crypto';
import { DOCUMENTED_EXAMPLE_KEY_DIGESTS, guardRailWarnings } from '../../lib/guard-rails';
import { recordingLogger, SECRET_KEY } from '../helpers/app';

const LIVE_KEY = `live_secret_key_${randomBytes(16).toString('hex')}`;
/** A key standing in for one printed in Khalti's docs (the package keeps only the real ones' digests). */
const DOCUMENTED = `test_secret_key_${randomBytes(16).toString('hex')}`;
const DOCUMENTED_DIGEST = createHash('sha256').update(DOCUMENTED).digest('hex');
const normal = { secretKey: LIVE_KEY, baseUrl: 'https://khalti.com', env: { NODE_ENV: 'production' }, epayment: true };

describe('guardRailWarnings', () => {
  it('says nothing for a normal set-up: production, sandbox tests, a widget test key, the ePayment sandbox’s live key', () => {
    expect(guardRailWarnings(normal)).toEqual([]);
    expect(guardRailWarnings({ ...normal, baseUrl: 'http://127.0.0.1:9999', env: { NODE_ENV: 'test' } })).toEqual([]);
    expect(guardRailWarnings({ ...normal, secretKey: SECRET_KEY, epayment: false })).toEqual([]);
    expect(guardRailWarnings({ ...normal, baseUrl: 'https://dev.khalti.com', env: {} })).toEqual([]);
    expect(guardRailWarnings({ ...normal, baseUrl: undefined })).toEqual([]);
    expect(
      guardRailWarnings({
        ...normal,
        env: { NODE_ENV: 'production', VITE_KHALTI_PUBLIC_KEY: 'live_public_key_x', KHALTI_SECRET_KEY: LIVE_KEY },
      }),
    ).toEqual([]);
  });

  it('knows the four keys printed in Khalti’s documentation, by their SHA-256 digests only', () => {
    expect(DOCUMENTED_EXAMPLE_KEY_DIGESTS).toHaveLength(4);
    for (const digest of DOCUMENTED_EXAMPLE_KEY_DIGESTS) expect(digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('warns about a key whose digest is a documented example key’s, without the key', () => {
    const warnings = guardRailWarnings({ ...normal, secretKey: DOCUMENTED, epayment: false, exampleKeyDigests: [DOCUMENTED_DIGEST] });
    expect(warnings).toEqual([expect.stringContaining('example keys printed in Khalti’s documentation')]);
    expect(warnings.join()).not.toContain(DOCUMENTED);
    expect(guardRailWarnings({ ...normal, secretKey: DOCUMENTED, epayment: false })).toEqual([]);
  });

  it.each(['NEXT_PUBLIC_KHALTI_KEY', 'VITE_KHALTI_SECRET', 'REACT_APP_KHALTI', 'PUBLIC_KHALTI_SECRET_KEY', 'EXPO_PUBLIC_KHALTI'])(
    'warns when the key is also in %s, a variable shipped to browsers, naming the variable and not the value',
    (name) => {
      const warnings = guardRailWarnings({ ...normal, env: { NODE_ENV: 'production', KHALTI_SECRET_KEY: LIVE_KEY, [name]: LIVE_KEY } });
      expect(warnings).toEqual([expect.stringContaining(`environment variable ${name}, whose prefix makes front-end builds ship it`)]);
      expect(warnings.join()).not.toContain(LIVE_KEY);
    },
  );

  it('warns about a widget-era test_ key for ePayment against production', () => {
    expect(guardRailWarnings({ ...normal, secretKey: SECRET_KEY })).toEqual([
      expect.stringContaining('ePayment is on against https://khalti.com with a test_ secret key'),
    ]);
  });

  it.each([
    ['http://127.0.0.1:9999', 'a sandbox on this machine'],
    ['http://localhost:9999', 'a sandbox on this machine'],
    ['http://[::1]:9999', 'a sandbox on this machine'],
    ['https://dev.khalti.com', 'Khalti’s test host (dev.khalti.com)'],
    ['https://a.khalti.com', 'Khalti’s test host (a.khalti.com)'],
  ])('warns when NODE_ENV is production and baseUrl is %s', (baseUrl, where) => {
    expect(guardRailWarnings({ ...normal, baseUrl })).toEqual([
      `NODE_ENV is production but baseUrl is ${where}: no real payment can be verified there; set baseUrl to https://khalti.com`,
    ]);
  });
});

describe('khaltiVerifier() at start-up', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  const start = (secretKey: string, extra: Record<string, unknown> = {}) => {
    const { lines, logger } = recordingLogger();
    khaltiVerifier({ secretKey, expectedAmount: () => 1000, onVerified: () => undefined, store: new MemoryStore(), logger, ...extra });
    return lines;
  };

  it('logs each warning once at warn, through the logger, with no key in it', () => {
    process.env.NEXT_PUBLIC_KHALTI = LIVE_KEY;
    process.env.NODE_ENV = 'production';
    const lines = start(LIVE_KEY, { baseUrl: 'http://127.0.0.1:9' });
    expect(lines.map((l) => l.level)).toEqual(['warn', 'warn']);
    expect(lines[0]!.message).toMatch(
      /^khalti-express: start-up check: the secret key is also in the environment variable NEXT_PUBLIC_KHALTI/,
    );
    expect(lines[1]!.message).toMatch(/^khalti-express: start-up check: NODE_ENV is production but baseUrl is a sandbox on this machine/);
    expect(JSON.stringify(lines)).not.toContain(LIVE_KEY);
  });

  it('says nothing for a normal set-up', () => {
    expect(start(LIVE_KEY)).toEqual([]);
    expect(start(SECRET_KEY, { baseUrl: 'http://127.0.0.1:9', client: undefined })).toEqual([]);
  });
});
