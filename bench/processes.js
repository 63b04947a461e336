// Start bench processes with IPC, and ask them things.
const { fork } = require('node:child_process');
const { readdirSync, readFileSync } = require('node:fs');
const path = require('node:path');

/**
 * Fork a bench script; resolves once it reports `ready`. KHX_BENCH_PROFILE=<dir> makes every bench
 * process write a CPU profile there (`node --cpu-prof`) when it stops; KHX_BENCH_NODE_ARGS adds node
 * flags to every bench process (e.g. `--trace-gc`, which NODE_OPTIONS does not take);
 * KHX_BENCH_SERVER_NODE_ARGS only to the servers under test (target-server.js: the baseline, the ceiling,
 * the floor and every store's), and the report says so; `nodeArgs` are this process's own.
 */
function start(script, args = [], env = {}, nodeArgs = []) {
  const execArgv = process.env.KHX_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.KHX_BENCH_PROFILE}`] : [];
  execArgv.push(...nodeArgs);
  if (process.env.KHX_BENCH_NODE_ARGS) execArgv.push(...process.env.KHX_BENCH_NODE_ARGS.split(' ').filter(Boolean));
  if (script === 'target-server.js') execArgv.push(...serverNodeArgs());
  const child = fork(path.join(__dirname, script), args, {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message) =>
      message.ready ? resolve({ child, ...message }) : reject(new Error(`${script}: ${JSON.stringify(message)}`)),
    );
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
  });
}

/** KHX_BENCH_SERVER_NODE_ARGS split into flags (e.g. `--max-old-space-size=1024`); none when unset. */
function serverNodeArgs() {
  return (process.env.KHX_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
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

/** The database server processes each store's target talks to, by command name. */
const DATABASE_COMMANDS = { postgres: ['postgres'], redis: ['redis-server'], mysql: ['mariadbd', 'mysqld'] };

/** Pids whose command name starts with one of `names` (a database server with every backend). */
function pidsNamed(names) {
  if (names.length === 0) return [];
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (names.some((name) => comm.startsWith(name))) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

module.exports = { start, ask, stop, pidsNamed, serverNodeArgs, DATABASE_COMMANDS };
