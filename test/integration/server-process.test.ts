import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { issueToken } from '../../src/auth/issue-token.ts';
import { readJson } from '../support/test-app.ts';
import { freePort } from '../support/free-port.ts';

/**
 * Black-box tests of the product process: `node src/main.ts` spawned as an operator would run
 * it, observed only through its exit code, its output, HTTP, the data dir and /proc.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const STARTUP_MS = 45_000;
const ORPHAN_MESSAGE = 'found a PostgreSQL left running by a previous run';
const STALE_LOCK_MESSAGE = 'removing a stale postmaster.pid left by a previous run';

// ---------------------------------------------------------------------------------------------
// Process helpers
// ---------------------------------------------------------------------------------------------

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A spawned `node src/main.ts`, its output kept as it arrives. */
class DealixProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  exitInfo: ExitInfo | undefined;
  readonly exited: Promise<ExitInfo>;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      let settled = false;
      const settle = (code: number | null, signal: NodeJS.Signals | null) => {
        if (settled) return;
        settled = true;
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      };
      // 'close' waits for the output pipes to drain; 'exit' (plus a grace period) covers a
      // grandchild that would hold a pipe open.
      this.child.once('close', settle);
      this.child.once('exit', (code, signal) => setTimeout(() => settle(code, signal), 1_000).unref());
    });
    live.add(this);
    void this.exited.then(() => live.delete(this));
  }

  get output(): string {
    return `${this.stdout}\n${this.stderr}`;
  }

  /** Waits for the banner and the demo admin token, or fails with everything the process said. */
  async ready(timeoutMs = STARTUP_MS): Promise<{ url: string; token: string }> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const url = /Dealix is running at (http:\/\/\S+)/.exec(this.stdout)?.[1];
      const token = /^\s*(eyJ[\w-]+\.[\w-]+\.[\w-]+)\s*$/m.exec(this.stdout)?.[1];
      if (url && token) return { url, token };
      if (this.exitInfo) throw new Error(`dealix exited (${JSON.stringify(this.exitInfo)}) before it was ready:\n${this.output}`);
      await sleep(50);
    }
    throw new Error(`dealix was not ready after ${timeoutMs} ms:\n${this.output}`);
  }

  /** Sends a signal and waits for the exit; fails the test if it takes longer than `timeoutMs`. */
  async signalAndWait(signal: NodeJS.Signals, timeoutMs: number): Promise<ExitInfo> {
    this.child.kill(signal);
    const result = await Promise.race([this.exited, sleep(timeoutMs).then(() => undefined)]);
    if (!result) throw new Error(`dealix did not exit within ${timeoutMs} ms of ${signal}:\n${this.output}`);
    return result;
  }
}

/** Every process still running; afterEach SIGKILLs them whatever happened in the test. */
const live = new Set<DealixProcess>();
/** Every embedded data dir a test used; afterEach stops a postmaster left in any of them. */
const dataDirs = new Set<string>();
/** Every temp dir; removed in afterAll. */
const tempDirs = new Set<string>();
/** External-mode databases to drop in afterAll, should a test fail before dropping its own. */
const externalDatabases = new Set<string>();

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  // As root, PostgreSQL runs as the postgres user, which must traverse the data dir.
  await chmod(dir, 0o755);
  tempDirs.add(dir);
  return dir;
}

async function twoFreePorts(): Promise<[number, number]> {
  const first = await freePort();
  let second = await freePort();
  while (second === first) second = await freePort();
  return [first, second];
}

/** Only what the process needs: nothing from the test runner's environment leaks in. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: `${path.join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}`,
    HOME: process.env.HOME ?? os.homedir(),
    LOG_LEVEL: 'info',
  };
  for (const name of ['LANG', 'TMPDIR'] as const) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  return env;
}

interface EmbeddedSetup {
  dataDir: string;
  pgDir: string;
  port: number;
  pgPort: number;
  env: Record<string, string>;
}

async function embeddedSetup(dataDir?: string): Promise<EmbeddedSetup> {
  const dir = dataDir ?? (await makeTempDir('dealix-proc-'));
  const [port, pgPort] = await twoFreePorts();
  dataDirs.add(dir);
  return {
    dataDir: dir,
    pgDir: path.join(dir, 'pg'),
    port,
    pgPort,
    env: { ...baseEnv(), DEALIX_DATA_DIR: dir, PORT: String(port), DEALIX_PG_PORT: String(pgPort) },
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL process helpers (/proc: Linux)
// ---------------------------------------------------------------------------------------------

async function readPostmasterPid(pgDir: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(path.join(pgDir, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a /proc file, or undefined when the process is gone. */
function procFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const status = procFile(`/proc/${pid}/status`);
  return status === undefined ? true : !/^State:\s+Z/m.test(status);
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(50);
  }
  return !isAlive(pid);
}

/** Pids of processes that are a postgres for this data dir, or a child of `postmasterPid`. */
async function postgresProcessesFor(pgDir: string, postmasterPid?: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const cmdline = procFile(`/proc/${pid}/cmdline`);
    const status = procFile(`/proc/${pid}/status`);
    if (cmdline === undefined || status === undefined || /^State:\s+Z/m.test(status)) continue;
    const args = cmdline.split('\0');
    const forDir = args.some((arg) => /(^|\/)postgres$/.test(arg)) && args.some((arg) => arg && path.resolve(arg) === path.resolve(pgDir));
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
    if (forDir || (postmasterPid !== undefined && ppid === postmasterPid)) found.push(pid);
  }
  return found;
}

/** Stops a postmaster left running in this data dir (fast shutdown, then harder). */
async function stopStrayPostmaster(pgDir: string): Promise<void> {
  const pid = await readPostmasterPid(pgDir);
  const pids = new Set(await postgresProcessesFor(pgDir));
  if (pid !== undefined && isAlive(pid)) {
    const cmdline = procFile(`/proc/${pid}/cmdline`) ?? '';
    if (cmdline.includes(pgDir)) pids.add(pid);
  }
  for (const target of pids) {
    for (const [signal, wait] of [['SIGINT', 10_000], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]] as const) {
      try {
        process.kill(target, signal);
      } catch {
        break;
      }
      if (await waitGone(target, wait)) break;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP helper
// ---------------------------------------------------------------------------------------------

async function http(port: number, route: string, token?: string) {
  const response = await fetch(`http://127.0.0.1:${port}${route}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, json: readJson(text) };
}

/** Every deal the token can see (the demo admin sees all of them), through the API. */
async function countDemoDeals(port: number, token: string, proc: DealixProcess): Promise<number> {
  const page = await http(port, '/api/v1/deals?limit=200', token);
  expect(page.status, `${page.text}\n--- server output ---\n${proc.output}`).toBe(200);
  expect(page.json.next_cursor).toBeNull();
  return (page.json.data as unknown[]).length;
}

/** After a clean exit: no lock file, the postmaster and its children gone, nothing for the dir. */
async function expectNoPostgresLeft(pgDir: string, postmasterPid: number, children: number[]): Promise<void> {
  expect(existsSync(path.join(pgDir, 'postmaster.pid')), 'postmaster.pid left behind').toBe(false);
  expect(await waitGone(postmasterPid, 2_000), `postmaster ${postmasterPid} still running`).toBe(true);
  for (const child of children) expect(await waitGone(child, 2_000), `postgres child ${child} still running`).toBe(true);
  expect(await postgresProcessesFor(pgDir, postmasterPid)).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Cleanup: whatever a test did, nothing it started survives it.
// ---------------------------------------------------------------------------------------------

afterEach(async () => {
  for (const proc of [...live]) {
    proc.child.kill('SIGKILL');
    await Promise.race([proc.exited, sleep(5_000)]);
  }
  for (const dir of dataDirs) await stopStrayPostmaster(path.join(dir, 'pg'));
});

afterAll(async () => {
  if (externalDatabases.size) {
    const info = inject('postgres');
    const admin = new pg.Client({
      connectionString: `postgres://postgres:${encodeURIComponent(info.superuserPassword)}@127.0.0.1:${info.port}/postgres`,
    });
    await admin.connect();
    try {
      for (const name of externalDatabases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Embedded mode
// ---------------------------------------------------------------------------------------------

describe('node src/main.ts on embedded PostgreSQL', () => {
  // One data dir for this block: the first test initialises it, the next ones restart on it.
  let shared: string;
  beforeAll(async () => {
    shared = await makeTempDir('dealix-proc-');
  });

  it('first start: ready, health, OpenAPI, offline docs, metrics, and a working demo token', { timeout: 60_000 }, async () => {
    const setup = await embeddedSetup(shared);
    const proc = new DealixProcess(setup.env);
    const { url, token } = await proc.ready();

    expect(url).toBe(`http://localhost:${setup.port}`);
    expect(proc.stdout).toContain(`Dealix is running at http://localhost:${setup.port}`);
    expect(proc.output).toContain('initialising embedded PostgreSQL (first start)');
    expect(proc.output).toContain('demo tenant seeded');
    expect(existsSync(path.join(setup.pgDir, '.dealix-initialised'))).toBe(true);
    // Logs never carry the token, even though stdout shows it once in the banner.
    for (const line of proc.stdout.split('\n').filter((l) => l.startsWith('{'))) expect(line).not.toContain(token);

    const health = await http(setup.port, '/healthz');
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok' });

    const ready = await http(setup.port, '/readyz');
    expect(ready.status, ready.text).toBe(200);
    expect(ready.json.status).toBe('ready');
    expect(ready.json.checks.database.ok).toBe(true);
    expect(ready.json.checks.migrations.ok).toBe(true);

    const spec = await http(setup.port, '/openapi.json');
    expect(spec.status).toBe(200);
    expect(spec.json.openapi).toBe('3.1.0');
    expect(Object.keys(spec.json.paths)).toEqual(expect.arrayContaining(['/api/v1/deals', '/api/v1/contacts']));

    const docs = await http(setup.port, '/docs');
    expect(docs.status).toBe(200);
    expect(docs.contentType).toContain('text/html');
    expect(docs.text).toContain('/docs/assets/swagger-ui-bundle.js');
    // Served from the installed package: the page works with no network.
    expect(docs.text).not.toMatch(/https?:\/\/(?!localhost)[^"']*\.(js|css)/);
    const bundle = await http(setup.port, '/docs/assets/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.contentType).toContain('javascript');
    expect(bundle.text.length).toBeGreaterThan(100_000);

    const deals = await http(setup.port, '/api/v1/deals?limit=200', token);
    expect(deals.status, `${deals.text}\n--- server output ---\n${proc.output}`).toBe(200);
    expect(deals.json.data.length).toBe(12);
    const unauthenticated = await http(setup.port, '/api/v1/deals');
    expect(unauthenticated.status).toBe(401);

    const metrics = await http(setup.port, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('dealix_http_requests_total');
    expect(metrics.text).toMatch(/dealix_http_requests_total\{[^}]*status="200"[^}]*\} [1-9]/);

    const stopped = await proc.signalAndWait('SIGTERM', 10_000);
    expect(stopped.code, proc.output).toBe(0);
  });

  it('SIGTERM: exits 0 through the orderly shutdown and leaves no PostgreSQL behind', { timeout: 60_000 }, async () => {
    const setup = await embeddedSetup(shared);
    const proc = new DealixProcess(setup.env);
    const { token } = await proc.ready();
    const postmasterPid = await readPostmasterPid(setup.pgDir);
    expect(postmasterPid, 'postmaster.pid while running').toBeDefined();
    const pid = postmasterPid as number;
    expect(isAlive(pid)).toBe(true);
    const children = (await postgresProcessesFor(setup.pgDir, pid)).filter((p) => p !== pid);
    expect(children.length, 'postgres backends/auxiliary processes').toBeGreaterThan(0);
    // A request in the pools, so shutdown has connections to close.
    expect((await http(setup.port, '/api/v1/deals', token)).status).toBe(200);

    const stopped = await proc.signalAndWait('SIGTERM', 8_000);
    expect(stopped.code, proc.output).toBe(0);
    expect(stopped.signal).toBeNull();
    // The orderly path, in order (the 8 s above is only a hang guard): not a forced exit.
    expect(proc.output.indexOf('shutting down'), proc.output).toBeGreaterThanOrEqual(0);
    expect(proc.output.indexOf('stopped cleanly'), proc.output).toBeGreaterThan(proc.output.indexOf('shutting down'));
    await expectNoPostgresLeft(setup.pgDir, pid, children);
    // The HTTP port is released too.
    await expect(http(setup.port, '/healthz')).rejects.toThrow();
  });

  it('second start on the same data dir: seeds nothing twice, secrets persist, old tokens verify', { timeout: 60_000 }, async () => {
    const setup = await embeddedSetup(shared);
    const first = new DealixProcess(setup.env);
    const { token: oldToken } = await first.ready();
    expect(await countDemoDeals(setup.port, oldToken, first)).toBe(12);
    const secretsBefore = await readFile(path.join(setup.dataDir, 'secrets.json'), 'utf8');
    expect((await first.signalAndWait('SIGTERM', 10_000)).code, first.output).toBe(0);

    const again = await embeddedSetup(shared); // new ports: nothing may depend on the old ones
    const second = new DealixProcess(again.env);
    const { token: newToken } = await second.ready();
    expect(second.output).not.toContain('initialising embedded PostgreSQL');
    expect(second.output).not.toContain('demo tenant seeded');
    expect(second.output).not.toContain('database migrations applied');
    expect(second.output).not.toContain(ORPHAN_MESSAGE);
    expect(await readFile(path.join(setup.dataDir, 'secrets.json'), 'utf8')).toBe(secretsBefore);

    expect(await countDemoDeals(again.port, newToken, second)).toBe(12);
    // Same JWT secret from secrets.json: the token printed by the previous run still verifies.
    expect(await countDemoDeals(again.port, oldToken, second)).toBe(12);
    // And a token signed with anything else does not.
    const forged = `${oldToken.split('.').slice(0, 2).join('.')}.${randomBytes(32).toString('base64url')}`;
    expect((await http(again.port, '/api/v1/deals', forged)).status).toBe(401);

    expect((await second.signalAndWait('SIGTERM', 10_000)).code, second.output).toBe(0);
  });

  it('crash recovery: after SIGKILL the orphaned postmaster is stopped and the next start succeeds', { timeout: 60_000 }, async () => {
    const setup = await embeddedSetup(shared);
    const crashed = new DealixProcess(setup.env);
    await crashed.ready();
    const orphan = await readPostmasterPid(setup.pgDir);
    expect(orphan).toBeDefined();
    const orphanPid = orphan as number;

    const killed = await crashed.signalAndWait('SIGKILL', 5_000);
    expect(killed.signal).toBe('SIGKILL');
    // The precondition this test is about: PostgreSQL outlived its parent.
    await sleep(200);
    expect(isAlive(orphanPid), 'postmaster should outlive a SIGKILLed parent').toBe(true);
    expect(await readPostmasterPid(setup.pgDir)).toBe(orphanPid);

    const restarted = new DealixProcess(setup.env); // same ports: the orphan holds the PG port
    const { token } = await restarted.ready();
    expect(restarted.output).toContain(ORPHAN_MESSAGE);
    expect(restarted.output).toContain(`"pid":${orphanPid}`);
    expect(isAlive(orphanPid), `orphan ${orphanPid} should be gone`).toBe(false);
    const fresh = await readPostmasterPid(setup.pgDir);
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(orphanPid);
    expect(await countDemoDeals(setup.port, token, restarted)).toBe(12);

    const stopped = await restarted.signalAndWait('SIGTERM', 10_000);
    expect(stopped.code, restarted.output).toBe(0);
    await expectNoPostgresLeft(setup.pgDir, fresh as number, []);
  });

  it('a second instance on a data dir in use refuses to start and leaves the first one alone', { timeout: 60_000 }, async () => {
    const setup = await embeddedSetup(shared);
    const first = new DealixProcess(setup.env);
    const { token } = await first.ready();
    const postmasterPid = await readPostmasterPid(setup.pgDir);
    expect(postmasterPid).toBeDefined();

    const other = await embeddedSetup(shared);
    const second = new DealixProcess(other.env);
    const result = await Promise.race([second.exited, sleep(20_000).then(() => undefined)]);
    expect(result, `second instance still running:\n${second.output}`).toBeDefined();
    expect(result?.code, second.output).toBe(1);
    expect(second.stderr).toContain('Another Dealix is probably using this data dir');
    expect(second.output).not.toContain(ORPHAN_MESSAGE);

    // The first instance and its PostgreSQL are untouched.
    expect(await readPostmasterPid(setup.pgDir)).toBe(postmasterPid);
    expect(isAlive(postmasterPid as number)).toBe(true);
    expect(await countDemoDeals(setup.port, token, first)).toBe(12);
    expect((await first.signalAndWait('SIGTERM', 10_000)).code, first.output).toBe(0);
  });

  it('crash recovery: a stale postmaster.pid naming a dead pid does not stop the next start', { timeout: 60_000 }, async () => {
    const setup = await embeddedSetup(shared);
    // A pid that certainly existed and is now certainly gone.
    const probe = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    const deadPid = probe.pid as number;
    await new Promise((resolve) => probe.once('exit', resolve));
    expect(isAlive(deadPid)).toBe(false);
    await writeStaleLock(setup, deadPid);

    const proc = new DealixProcess(setup.env);
    const { token } = await proc.ready();
    expect(proc.output).toContain(STALE_LOCK_MESSAGE);
    expect(proc.output).not.toContain(ORPHAN_MESSAGE);
    expect(await countDemoDeals(setup.port, token, proc)).toBe(12);
    expect((await proc.signalAndWait('SIGTERM', 10_000)).code, proc.output).toBe(0);
    expect(existsSync(path.join(setup.pgDir, 'postmaster.pid'))).toBe(false);
  });

  it('crash recovery: a postmaster.pid whose pid was reused by a non-postgres process is stale too', { timeout: 60_000 }, async () => {
    const setup = await embeddedSetup(shared);
    // This test worker: alive, but not a postgres for that data dir. It must not be signalled.
    await writeStaleLock(setup, process.pid);

    const proc = new DealixProcess(setup.env);
    const { token } = await proc.ready();
    expect(proc.output).toContain(STALE_LOCK_MESSAGE);
    expect(proc.output).not.toContain(ORPHAN_MESSAGE);
    expect(await countDemoDeals(setup.port, token, proc)).toBe(12);
    expect((await proc.signalAndWait('SIGTERM', 10_000)).code, proc.output).toBe(0);
  });
});

/** A postmaster.pid as PostgreSQL writes it, naming `pid`. */
async function writeStaleLock(setup: EmbeddedSetup, pid: number): Promise<void> {
  expect(existsSync(path.join(setup.pgDir, '.dealix-initialised')), 'data dir initialised by an earlier test').toBe(true);
  expect(existsSync(path.join(setup.pgDir, 'postmaster.pid'))).toBe(false);
  const started = Math.floor(Date.now() / 1000) - 60;
  await writeFile(
    path.join(setup.pgDir, 'postmaster.pid'),
    `${pid}\n${setup.pgDir}\n${started}\n${setup.pgPort}\n\n127.0.0.1\n  2148995        28\nready   \n`,
  );
}

// ---------------------------------------------------------------------------------------------
// Configuration errors
// ---------------------------------------------------------------------------------------------

describe('node src/main.ts with invalid configuration', () => {
  it('exits 1 before touching anything and names every bad variable at once', { timeout: 30_000 }, async () => {
    const dataDir = await makeTempDir('dealix-proc-');
    const proc = new DealixProcess({
      ...baseEnv(),
      DEALIX_DATA_DIR: dataDir,
      PORT: 'abc',
      DEALIX_JWT_SECRET: 'short',
      DATABASE_URL: 'not-a-url',
    });
    const result = await Promise.race([proc.exited, sleep(15_000).then(() => undefined)]);
    expect(result, `still running:\n${proc.output}`).toBeDefined();
    expect(result?.code, proc.output).toBe(1);
    // Refused at the config parse, before any database work: the data directory stays empty.
    expect(await readdir(dataDir)).toEqual([]);
    expect(proc.stderr).toContain('Invalid configuration');
    for (const variable of ['PORT', 'DEALIX_JWT_SECRET', 'DATABASE_URL']) {
      expect(proc.stderr).toMatch(new RegExp(`^\\s*- ${variable}: `, 'm'));
    }
    expect(proc.stdout).not.toContain('Dealix is running');
    // It gave up before touching anything.
    expect(await readdir(dataDir)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// External mode
// ---------------------------------------------------------------------------------------------

describe('node src/main.ts on an external PostgreSQL (DATABASE_URL)', () => {
  it('migrates an empty database, seeds the demo tenant, serves requests, starts no embedded PostgreSQL', { timeout: 60_000 }, async () => {
    const info = inject('postgres');
    const dbName = `dealix_ext_${randomBytes(6).toString('hex')}`;
    const urlFor = (user: string, password: string, database: string) =>
      `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${info.port}/${database}`;
    const admin = new pg.Client({ connectionString: urlFor('postgres', info.superuserPassword, 'postgres') });
    await admin.connect();
    try {
      externalDatabases.add(dbName);
      await admin.query(`CREATE DATABASE ${dbName}`);
    } finally {
      await admin.end();
    }

    const dataDir = await makeTempDir('dealix-proc-ext-');
    const [port, pgPort] = await twoFreePorts();
    const jwtSecret = randomBytes(32).toString('base64url');
    const proc = new DealixProcess({
      ...baseEnv(),
      DEALIX_DATA_DIR: dataDir,
      PORT: String(port),
      DEALIX_PG_PORT: String(pgPort),
      DATABASE_URL: urlFor('postgres', info.superuserPassword, dbName),
      DATABASE_APP_URL: urlFor('dealix_app', info.appPassword, dbName),
      DEALIX_JWT_SECRET: jwtSecret,
      DEALIX_MASTER_KEY: randomBytes(32).toString('base64'),
    });
    const { token } = await proc.ready();
    expect(proc.output).toContain('database migrations applied');
    expect(proc.output).toContain('demo tenant seeded');
    expect(proc.output).not.toContain('embedded PostgreSQL');
    // Database passwords never reach the output.
    expect(proc.output).not.toContain(info.superuserPassword);
    expect(proc.output).not.toContain(info.appPassword);

    const db = new pg.Client({ connectionString: urlFor('postgres', info.superuserPassword, dbName) });
    await db.connect();
    try {
      const migrations = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
      expect(migrations.rows[0]?.n).toBeGreaterThanOrEqual(2);
      const tenants = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tenants WHERE slug = 'demo'`);
      expect(tenants.rows[0]?.n).toBe(1);
    } finally {
      await db.end();
    }

    expect((await http(port, '/readyz')).status).toBe(200);
    expect(await countDemoDeals(port, token, proc)).toBe(12);
    // Tokens are HS256 with DEALIX_JWT_SECRET: one signed elsewhere with it verifies here.
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { tenant_id: string; sub: string };
    const elsewhere = await issueToken({ secret: jwtSecret, tenantId: payload.tenant_id, sub: payload.sub, roles: ['executive'], ttlHours: 1 });
    expect(await countDemoDeals(port, elsewhere, proc)).toBe(12);

    // No embedded PostgreSQL, no local secrets: the data dir is untouched.
    expect(existsSync(path.join(dataDir, 'pg'))).toBe(false);
    expect(await readdir(dataDir)).toEqual([]);

    const stopped = await proc.signalAndWait('SIGTERM', 10_000);
    expect(stopped.code, proc.output).toBe(0);

    const cleanup = new pg.Client({ connectionString: urlFor('postgres', info.superuserPassword, 'postgres') });
    await cleanup.connect();
    try {
      await cleanup.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
      externalDatabases.delete(dbName);
    } finally {
      await cleanup.end();
    }
  });
});
