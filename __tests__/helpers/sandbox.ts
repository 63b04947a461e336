// useSandbox(): a fresh Khalti sandbox for every test of the calling file, started before each test
// and closed after it. What it returns stands for the current test's sandbox, so a file writes
// `const sandbox = useSandbox({ secretKey: SECRET_KEY })` once and uses `sandbox.pay(…)` in its tests.
import { createKhaltiSandbox, type KhaltiSandbox, type KhaltiSandboxOptions } from '../../lib/sandbox';

export function useSandbox(options: KhaltiSandboxOptions = {}, setup?: (sandbox: KhaltiSandbox) => void): KhaltiSandbox {
  let current: KhaltiSandbox | undefined;
  beforeEach(async () => {
    current = await createKhaltiSandbox(options);
    setup?.(current);
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return new Proxy({} as KhaltiSandbox, {
    get(_, property) {
      if (!current) throw new Error('useSandbox(): the sandbox exists only inside a test (or a beforeEach after useSandbox)');
      return Reflect.get(current, property) as unknown;
    },
  });
}
