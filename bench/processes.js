// Start bench processes with IPC, and ask them things.
const { fork } = require('node:child_process');
const path = require('node:path');

/** Fork a bench script; resolves once it reports `ready`. */
function start(script, args = [], env = {}) {
  const child = fork(path.join(__dirname, script), args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => (message.ready ? resolve({ child, ...message }) : reject(new Error(`${script}: ${JSON.stringify(message)}`))));
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
  });
}

/** Send one IPC message and wait for the reply. */
function ask(child, message) {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send(message);
  });
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

module.exports = { start, ask, stop };
