import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

/**
 * The short chaos run (`npm run chaos` is the long one): the product as a real process, killed,
 * cut off from PostgreSQL and from its provider under load; afterwards nothing lost, nothing
 * done twice. The runner prints its counts as one JSON line and exits 1 on any violation.
 */
it('survives SIGKILLs, a PostgreSQL restart and a hanging then failing provider without losing or repeating anything', async () => {
  const runner = path.resolve(import.meta.dirname, 'run-chaos.ts');
  const child = spawn(process.execPath, [runner, '--short'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  const stderr: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString('utf8'));
    if (stderr.length > 400) stderr.shift();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const result = JSON.parse(line || '{}') as Record<string, unknown>;
  console.log(`chaos (short): ${line}`);
  if (code !== 0) console.log(stderr.join('').split('\n').filter((l) => l.startsWith('[chaos]')).join('\n'));
  expect(result.violations).toBe(0);
  expect(result.drained).toBe(true);
  expect(result.inbound_acknowledged).toBeGreaterThan(0);
  expect(result.inbound_processed_once).toBe(result.inbound_acknowledged);
  expect(result.server_kills).toBeGreaterThan(0);
  expect(result.postgres_restarts).toBe(1);
  expect(result.opt_outs_recorded).toBe(result.opt_outs_sent);
  expect(code).toBe(0);
}, 300_000);
