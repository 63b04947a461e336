// Bench process: the Khalti sandbox in throughput mode (bench_ tokens paid on first sight, no request log).
// IPC: { latencyMs } sets its answer delay; { completed: true } answers the tokens Khalti completed.
const { createKhaltiSandbox } = require('khalti-express/sandbox');

createKhaltiSandbox({ autoPay: true, recordRequests: false }).then((sandbox) => {
  process.on('message', (message) => {
    if (typeof message.latencyMs === 'number') {
      sandbox.faults.latencyMs = message.latencyMs;
      process.send({ ok: true });
    } else if (message.completed) {
      process.send({ completed: sandbox.completedTokens() });
    }
  });
  process.send({ ready: true, baseUrl: sandbox.baseUrl, secretKey: sandbox.secretKey });
});

// Exit cleanly on SIGTERM, so a CPU profile (KHX_BENCH_PROFILE) is written.
process.once('SIGTERM', () => process.exit(0));
