import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROLE_VALUES } from '../../src/auth/roles.ts';
import { freePort } from '../support/free-port.ts';

/**
 * The operator CLI (`node bin/dealix.js …`) against an embedded data dir. With no server
 * running, each command starts the embedded PostgreSQL itself and must stop it before exiting;
 * with a server running, it borrows that server's PostgreSQL and leaves it running.
 *
 * The tests run in order on one data dir (migrate → seed → tenant → token → server).
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let dataDir: string;
let pgDir: string;
let pgPort: number;
let serverPort: number;
const children = new Set<ChildProcess>();

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function env(): Record<string, string> {
  const out: Record<string, string> = {
    PATH: `${path.join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}`,
    HOME: process.env.HOME ?? os.homedir(),
    DEALIX_DATA_DIR: dataDir,
    DEALIX_PG_PORT: String(pgPort),
    PORT: String(serverPort),
  };
  for (const name of ['LANG', 'TMPDIR'] as const) {
    const value = process.env[name];
    if (value) out[name] = value;
  }
  return out;
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `node bin/dealix.js …args` to completion (killed after 30 s). */
function cli(...args: string[]): Promise<CliResult> {
  const started = Date.now();
  const child = spawn(process.execPath, ['bin/dealix.js', ...args], { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function procFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Live (non-zombie) postgres processes whose command line names this data dir. */
async function postmastersFor(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = procFile(`/proc/${entry}/cmdline`)?.split('\0');
    const status = procFile(`/proc/${entry}/status`);
    if (!cmdline || !status || /^State:\s+Z/m.test(status)) continue;
    if (cmdline.some((arg) => /(^|\/)postgres$/.test(arg)) && cmdline.some((arg) => arg && path.resolve(arg) === dir)) found.push(Number(entry));
  }
  return found;
}

async function readPostmasterPid(): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(path.join(pgDir, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** After a CLI command with no server running: it stopped the PostgreSQL it started. */
async function expectNoPostmaster(result: CliResult): Promise<void> {
  expect(existsSync(path.join(pgDir, 'postmaster.pid')), `postmaster.pid left behind; stderr:\n${result.stderr}`).toBe(false);
  expect(await postmastersFor(pgDir)).toEqual([]);
}

function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload, signature] = token.split('.');
  expect(signature, 'a JWT has three parts').toBeTruthy();
  const part = (text: string | undefined) => JSON.parse(Buffer.from(text ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: part(header), payload: part(payload) };
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'dealix-cli-'));
  // As root, PostgreSQL runs as the postgres user, which must traverse the data dir.
  await chmod(dataDir, 0o755);
  pgDir = path.join(dataDir, 'pg');
  pgPort = await freePort();
  do serverPort = await freePort();
  while (serverPort === pgPort);
});

afterEach(async () => {
  // Whatever a test did: no process of ours, and no PostgreSQL for the data dir, survives it.
  for (const child of children) {
    child.kill('SIGKILL');
    await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(5_000)]);
  }
  children.clear();
  for (const pid of await postmastersFor(pgDir)) {
    for (const [signal, wait] of [['SIGINT', 10_000], ['SIGKILL', 5_000]] as const) {
      try {
        process.kill(pid, signal);
      } catch {
        break;
      }
      const deadline = Date.now() + wait;
      while (Date.now() < deadline && (await postmastersFor(pgDir)).includes(pid)) await sleep(50);
      if (!(await postmastersFor(pgDir)).includes(pid)) break;
    }
  }
});

afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('dealix CLI on an embedded data dir', () => {
  it('migrate: initialises the data dir, applies migrations, stops its PostgreSQL', { timeout: 60_000 }, async () => {
    const result = await cli('migrate');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('migrations are up to date');
    expect(existsSync(path.join(pgDir, '.dealix-initialised'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'secrets.json'))).toBe(true);
    await expectNoPostmaster(result);

    const again = await cli('migrate');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe('migrations are up to date');
    await expectNoPostmaster(again);
  });

  it('seed, then seed again: the second has nothing to do', { timeout: 60_000 }, async () => {
    const first = await cli('seed');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe('demo tenant seeded');
    await expectNoPostmaster(first);

    const second = await cli('seed');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.trim()).toBe('demo tenant already exists; nothing to do');
    await expectNoPostmaster(second);
  });

  it('tenant create: prints the tenant as JSON; the same slug again fails', { timeout: 60_000 }, async () => {
    const created = await cli('tenant', 'create', 'acme', 'Acme Arabia');
    expect(created.code, created.stderr).toBe(0);
    const tenant = JSON.parse(created.stdout) as { id: string; slug: string; name: string };
    expect(tenant.id).toMatch(UUID);
    expect(tenant).toEqual({ id: tenant.id, slug: 'acme', name: 'Acme Arabia' });
    await expectNoPostmaster(created);

    const duplicate = await cli('tenant', 'create', 'acme', 'Acme Arabia');
    expect(duplicate.code).not.toBe(0);
    expect(duplicate.stdout).toBe('');
    expect(duplicate.stderr).toMatch(/already exists/);
    expect(duplicate.stderr).toContain('acme');
    await expectNoPostmaster(duplicate);
  });

  it('token: prints a JWT for the tenant and role', { timeout: 60_000 }, async () => {
    const result = await cli('token', '--tenant', 'demo', '--role', 'sales_rep');
    expect(result.code, result.stderr).toBe(0);
    await expectNoPostmaster(result);
    const token = result.stdout.trim();
    expect(token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    const { header, payload } = decodeJwt(token);
    expect(header.alg).toBe('HS256');
    expect(payload.tenant_id).toMatch(UUID);
    expect(payload.roles).toEqual(['sales_rep']);
    expect(payload.sub).toMatch(UUID);
    expect(typeof payload.exp).toBe('number');
    const now = Date.now() / 1000;
    // Default TTL is 12 hours.
    expect(payload.exp as number).toBeGreaterThan(now + 11 * 3600);
    expect(payload.exp as number).toBeLessThan(now + 13 * 3600);
  });

  it('token for an unknown tenant fails with a clear message', { timeout: 60_000 }, async () => {
    const result = await cli('token', '--tenant', 'nope', '--role', 'admin');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('no tenant with slug "nope"');
    await expectNoPostmaster(result);
  });

  it('token with the platform_operator role exits 2 and lists the roles', { timeout: 30_000 }, async () => {
    const result = await cli('token', '--tenant', 'demo', '--role', 'platform_operator');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('unknown role "platform_operator"');
    for (const role of ROLE_VALUES) expect(result.stderr).toContain(role);
    await expectNoPostmaster(result);
  });

  it('a token printed by the CLI is accepted by a server started afterwards; the CLI shares a running server’s PostgreSQL', { timeout: 60_000 }, async () => {
    const issued = await cli('token', '--tenant', 'demo', '--role', 'sales_rep');
    expect(issued.code, issued.stderr).toBe(0);
    await expectNoPostmaster(issued);
    const repToken = issued.stdout.trim();
    const rep = decodeJwt(repToken).payload;

    const server = spawn(process.execPath, ['src/main.ts'], { cwd: ROOT, env: { ...env(), LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(server);
    let output = '';
    server.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    server.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    let exit: { code: number | null } | undefined;
    const exited = new Promise<{ code: number | null }>((resolve) =>
      server.once('exit', (code) => {
        exit = { code };
        resolve(exit);
      }),
    );
    const deadline = Date.now() + 45_000;
    while (!/^\s*eyJ\S+\s*$/m.test(output)) {
      if (exit) throw new Error(`server exited (${exit.code}) before it was ready:\n${output}`);
      if (Date.now() > deadline) throw new Error(`server not ready:\n${output}`);
      await sleep(50);
    }
    expect(output).not.toContain('demo tenant seeded');
    const base = `http://127.0.0.1:${serverPort}`;
    const get = async (route: string, token: string) => {
      const response = await fetch(`${base}${route}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
      return { status: response.status, json: (await response.json()) as { data: Array<{ owner_user_id: string | null }> } };
    };

    const deals = await get('/api/v1/deals?limit=200', repToken);
    expect(deals.status).toBe(200);
    // A sales_rep sees only their own deals: the CLI picked a real sales rep of the demo tenant.
    expect(deals.json.data.length).toBeGreaterThan(0);
    expect(deals.json.data.length).toBeLessThan(12);
    for (const deal of deals.json.data) expect(deal.owner_user_id).toBe(rep.sub);

    // With the server up, the CLI connects to its PostgreSQL and leaves it running.
    const postmaster = await readPostmasterPid();
    expect(postmaster).toBeDefined();
    const acme = await cli('token', '--tenant', 'acme', '--role', 'admin');
    expect(acme.code, acme.stderr).toBe(0);
    expect(await readPostmasterPid()).toBe(postmaster);
    expect(await postmastersFor(pgDir)).toEqual([postmaster]);
    const acmeDeals = await get('/api/v1/deals', acme.stdout.trim());
    expect(acmeDeals.status).toBe(200);
    expect(acmeDeals.json.data).toEqual([]);

    server.kill('SIGTERM');
    const stopped = await Promise.race([exited, sleep(10_000).then(() => undefined)]);
    expect(stopped?.code, output).toBe(0);
    children.delete(server);
    expect(existsSync(path.join(pgDir, 'postmaster.pid'))).toBe(false);
    expect(await postmastersFor(pgDir)).toEqual([]);
  });
});
