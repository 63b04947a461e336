// Start-up guard rails against the two mistakes people make most often with Khalti keys: a key anyone
// can read (one printed in Khalti's documentation, or one also shipped to browsers), a key and a host
// that do not go together, and a production app pointed at a sandbox. Each is a warning through the logger, once, never with the key's value.

import type { Log } from './log';

/**
 * Keys printed in Khalti's documentation (docs.khalti.com): every copy of its examples uses them, so they
 * are nobody's secret.
 */
export const DOCUMENTED_EXAMPLE_KEYS: readonly string[] = [
  // The verification, status and transaction API pages' examples (widget flow).
  'test_secret_key_f59e8b7d18b4499ca40f68195a846e9b',
  // The ePayment (KPG-2) page's examples.
  'live_secret_key_68791341fdd94846a146f0457ff7b455',
  '05bf95cc57244045b8df5fad06748dab',
  // The web checkout page's widget example: a public key, never a secret one.
  'test_public_key_dc74e0fd57cb46cd93832aee0a390234',
];

/** Environment variable prefixes that front-end build tools copy into the code they ship to browsers. */
export const BROWSER_ENV_PREFIXES: readonly string[] = ['NEXT_PUBLIC_', 'VITE_', 'REACT_APP_', 'PUBLIC_', 'EXPO_PUBLIC_'];

/** Khalti's test (sandbox) hosts. */
const TEST_HOSTS: ReadonlySet<string> = new Set(['dev.khalti.com', 'a.khalti.com']);
const LOOPBACK: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface GuardRailInput {
  secretKey: string;
  /** `undefined` when the app passed its own `client` (its host is its own). */
  baseUrl: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether the ePayment routes are on. */
  epayment: boolean;
}

/** The warnings a set-up deserves (none for a normal one). */
export function guardRailWarnings({ secretKey, baseUrl, env, epayment }: GuardRailInput): string[] {
  const warnings: string[] = [];
  if (DOCUMENTED_EXAMPLE_KEYS.includes(secretKey)) {
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
