// Start __tests__/fixtures/ledger-app.js in its own Node process, as a real app instance would run.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const APP = path.join(ROOT, '__tests__', 'fixtures', 'ledger-app.js');

/** The child app runs the built package: build it if this jest run has not. */
export function ensureBuilt(): void {
  if (!existsSync(path.join(ROOT, 'dist', 'stores', 'mysql.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
}

export interface ChildApp {
  url: string;
  process: ChildProcess;
  stderr: () => string;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
}

export async function startChildApp(env: Record<string, string>): Promise<ChildApp> {
  const child = spawn(process.execPath, [APP], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`app exited (${code}) before listening: ${stderr}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: `http://127.0.0.1:${port}`,
    process: child,
    stderr: () => stderr,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Child apps started by a test are killed after it, whatever it did: `const apps = useChildApps()`,
 * then `await apps.start(env)` inside a test.
 */
export function useChildApps(): { start(env: Record<string, string>): Promise<ChildApp>; stopAll(): Promise<void> } {
  const running: ChildApp[] = [];
  const stopAll = async () => {
    await Promise.all(running.splice(0).map((app) => app.kill()));
  };
  afterEach(stopAll);
  return {
    /** Kill them now (an afterEach that cleans up after them calls this first). */
    stopAll,
    async start(env) {
      const app = await startChildApp(env);
      running.push(app);
      return app;
    },
  };
}

/** POST JSON; resolves to status and body, or `null` when the connection died (a killed app). */
export async function postJson(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> } | null> {
  try {
    const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  } catch {
    return null;
  }
}

/** Lines of a side-effect file (none if it does not exist). */
export function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** Wait until `check` is true, polling. */
export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
