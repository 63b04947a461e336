// Start-up guard rails against the two mistakes people make most often with Khalti keys: a key anyone
// can read (one printed in Khalti's documentation, or one also shipped to browsers), a key and a host
// that do not go together, and a production app pointed at a sandbox. Each is a warning through the
// logger, once, never with the key's value.

import { createHash } from 'node:crypto';
import type { Log } from './log';

/**
 * SHA-256 digests of the keys printed in Khalti's documentation (docs.khalti.com): every copy of its
 * examples uses them, so they are nobody's secret. Kept as digests so that no key-shaped string sits in
 * this package; the keys themselves are named (first 8 hex digits) in docs/observability.md.
 */
export const DOCUMENTED_EXAMPLE_KEY_DIGESTS: readonly string[] = [
  // The verification, status and transaction API pages' examples (widget flow): test_secret_key_f59e8b7d…
  'c080870f391833dfa225079026d783e7c145cec2af7fff71d61257b8cc305e5d',
  // The ePayment (KPG-2) page's examples: live_secret_key_68791341… and a bare 05bf95cc…
  'e6a47a7ad30c0a8ad8c439be6c9f7e002ba0ec54ecd4ad6b7cfdf3e038d856ed',
  '682f0a78c317693302df0a5869dc753ca979a04b026695803b2dc0c940e58471',
  // The web checkout page's widget example, a public key (never a secret one): test_public_key_dc74e0fd…
  '9bf1aa2e095eaa2a0ed13f53cd462f440ad898667687cbd0464e9f4b6cc9165c',
];

const digest = (key: string): string => createHash('sha256').update(key).digest('hex');

/** Environment variable prefixes that front-end build tools copy into the code they ship to browsers. */
export const BROWSER_ENV_PREFIXES: readonly string[] = ['NEXT_PUBLIC_', 'VITE_', 'REACT_APP_', 'PUBLIC_', 'EXPO_PUBLIC_'];

/** Khalti's test (sandbox) hosts. */
const TEST_HOSTS: ReadonlySet<string> = new Set(['dev.khalti.com', 'a.khalti.com']);
const LOOPBACK: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface GuardRailInput {
  /** The documented keys' digests; a test passes its own. Defaults to `DOCUMENTED_EXAMPLE_KEY_DIGESTS`. */
  exampleKeyDigests?: readonly string[];
  secretKey: string;
  /** `undefined` when the app passed its own `client` (its host is its own). */
  baseUrl: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether the ePayment routes are on. */
  epayment: boolean;
}

/** The warnings a set-up deserves (none for a normal one). */
export function guardRailWarnings({
  secretKey,
  baseUrl,
  env,
  epayment,
  exampleKeyDigests = DOCUMENTED_EXAMPLE_KEY_DIGESTS,
}: GuardRailInput): string[] {
  const warnings: string[] = [];
  if (exampleKeyDigests.includes(digest(secretKey))) {
    warnings.push(
      'the secret key is one of the example keys printed in Khalti’s documentation, which anyone can read: use the key of your own merchant account',
    );
  }
  const shipped = Object.keys(env).filter(
    (name) => BROWSER_ENV_PREFIXES.some((prefix) => name.startsWith(prefix)) && env[name] === secretKey,
  );
  for (const name of shipped.sort()) {
    warnings.push(
      `the secret key is also in the environment variable ${name}, whose prefix makes front-end builds ship it to every browser: ` +
        'remove it there and keep the key in a server-only variable',
    );
  }
  const host = baseUrl === undefined ? null : hostOf(baseUrl);
  // Narrower than "a test_ key against khalti.com, a live_ key against the test host": Khalti's own docs use
  // test_ keys against khalti.com for the widget flow's test mode, and its ePayment sandbox
  // (test-admin.khalti.com) issues live_ keys for dev.khalti.com. Only ePayment with a test_ key in
  // production is a mix-up whatever the docs: ePayment keys come from the merchant dashboard.
  if (epayment && host === 'khalti.com' && secretKey.startsWith('test_')) {
    warnings.push(
      'ePayment is on against https://khalti.com with a test_ secret key (a widget-era test key): ePayment needs the live secret key ' +
        'of your merchant dashboard (admin.khalti.com; for dev.khalti.com, the one test-admin.khalti.com gives)',
    );
  }
  if (env.NODE_ENV === 'production' && host !== null && (LOOPBACK.has(host) || TEST_HOSTS.has(host))) {
    warnings.push(
      `NODE_ENV is production but baseUrl is ${LOOPBACK.has(host) ? 'a sandbox on this machine' : `Khalti’s test host (${host})`}: ` +
        'no real payment can be verified there; set baseUrl to https://khalti.com',
    );
  }
  return warnings;
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname;
  } catch {
    return null;
  }
}

/** Log each warning once, at `warn`. */
export function warnAtStartup(log: Log, input: GuardRailInput): void {
  for (const warning of guardRailWarnings(input)) log('warn', `start-up check: ${warning}`);
}
