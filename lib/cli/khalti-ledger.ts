#!/usr/bin/env node
// `khalti-ledger`: the operator's command line (see ledger-cli.ts, and `khalti-ledger --help`).

import { createInterface } from 'node:readline';
import { run } from './ledger-cli';

const lines = createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]();

void run(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('? [y/N] ') ? text : `${text}\n`),
  readLine: async () => {
    const next = await lines.next();
    return next.done ? null : String(next.value);
  },
  env: process.env,
}).then((status) => {
  process.exitCode = status;
  // Drivers (pools, an app module's timers) must not keep a finished command alive.
  setImmediate(() => process.exit(status));
});
