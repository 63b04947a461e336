// `khalti-sandbox` as a user runs it: the built CLI starts, answers like Khalti, and stops on SIGTERM.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'sandbox', 'cli.js');

beforeAll(() => {
  if (!existsSync(CLI)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
}, 120_000);

describe('khalti-sandbox CLI', () => {
  it('starts on the given port, prints its keys and URLs, serves Khalti, and exits on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const baseUrl = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match && output.includes('checkout:')) resolve(match[1]!);
      });
      child.once('exit', () => reject(new Error(`exited early: ${output}`)));
    });
    expect(output).toMatch(/secretKey: +test_secret_key_[0-9a-f]{32}/);
    expect(output).toMatch(/publicKey: +test_public_key_[0-9a-f]{32}/);
    const response = await fetch(`${baseUrl}/api/v2/payment/status/?token=x&amount=1000`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ detail: 'Authentication credentials were not provided.', status_code: 401 });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('prints usage for --help, and exits 2 on a bad option value', () => {
    expect(execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' })).toContain('Usage: khalti-sandbox');
    let status: number | null = null;
    try {
      execFileSync(process.execPath, [CLI, '--port', 'abc'], { stdio: 'pipe' });
    } catch (error) {
      status = (error as { status: number }).status;
    }
    expect(status).toBe(2);
  });
});
