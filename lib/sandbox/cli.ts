#!/usr/bin/env node
// `khalti-sandbox`: run the local Khalti standalone, e.g. `npx khalti-sandbox --port 9999`.

import { parseArgs } from 'node:util';
import { createKhaltiSandbox } from './sandbox';

const USAGE = `Usage: khalti-sandbox [--port 9999] [--host 127.0.0.1] [--secret-key KEY] [--public-key KEY] [--already-verified record|invalid_token]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '9999' },
      host: { type: 'string', default: '127.0.0.1' },
      'secret-key': { type: 'string' },
      'public-key': { type: 'string' },
      'already-verified': { type: 'string', default: 'record' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  const alreadyVerified = values['already-verified'];
  if (!Number.isInteger(port) || port < 0 || port > 65_535 || (alreadyVerified !== 'record' && alreadyVerified !== 'invalid_token')) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const sandbox = await createKhaltiSandbox({
    port,
    host: values.host,
    alreadyVerified,
    ...(values['secret-key'] ? { secretKey: values['secret-key'] } : {}),
    ...(values['public-key'] ? { publicKey: values['public-key'] } : {}),
  });
  // This is a local sandbox: printing its own generated test key is the point (it guards no money).
  console.log(`Khalti sandbox listening at ${sandbox.baseUrl}`);
  console.log(`  baseUrl:    ${sandbox.baseUrl}`);
  console.log(`  secretKey:  ${sandbox.secretKey}`);
  console.log(`  publicKey:  ${sandbox.publicKey}`);
  console.log(`  checkout:   ${sandbox.checkoutUrl({ amount: 1000, productIdentity: 'demo-1' })}`);
  const stop = (): void => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`khalti-sandbox: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
