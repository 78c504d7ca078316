import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../src/db/stale-postmaster.ts';

/** Progress goes to stderr: stdout carries only the JSON result lines. */
export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

export { freePort } from '../test/support/free-port.ts';

/**
 * Teardown steps, run in reverse order of registration, each at most once, whether the
 * bench finished, threw, or was interrupted.
 */
export class Cleanup {
  private readonly steps: Array<{ name: string; run: () => Promise<void> }> = [];
  private running: Promise<void> | undefined;

  add(name: string, run: () => Promise<void>): void {
    this.steps.push({ name, run });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length) {
        const step = this.steps.pop();
        if (!step) break;
        try {
          await step.run();
        } catch (error) {
          log(`cleanup step "${step.name}" failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    })();
    return this.running;
  }
}

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** Everything the child wrote on stdout so far. */
  stdout(): string;
  /** The last lines it wrote on stderr (for error messages). */
  stderrTail(): string;
  /** Resolves with the exit code (or signal name) once the child has exited. */
  exited: Promise<string>;
  hasExited(): boolean;
}

export interface SpawnOptions {
  name: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Lines for which this returns false are not echoed to our stderr (e.g. a token). */
  echo?: (line: string) => boolean;
}

/** Spawns `node <args>` with the same Node binary as the bench, echoing its output to stderr. */
export function spawnNode(options: SpawnOptions): Child {
  const proc = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`could not spawn ${options.name}`);
  let out = '';
  const errLines: string[] = [];
  let exited = false;
  const echo = (stream: 'out' | 'err') => {
    let pending = '';
    return (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (stream === 'out') out += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (stream === 'err') {
          errLines.push(line);
          while (errLines.length > 40) errLines.shift();
        }
        if (line.trim() && (options.echo?.(line) ?? true)) process.stderr.write(`[${options.name}] ${line}\n`);
      }
    };
  };
  proc.stdout?.on('data', echo('out'));
  proc.stderr?.on('data', echo('err'));
  const exitedPromise = new Promise<string>((resolve) => {
    proc.once('exit', (code, signal) => {
      exited = true;
      resolve(signal ?? String(code));
    });
  });
  return {
    name: options.name,
    proc,
    pid: proc.pid,
    stdout: () => out,
    stderrTail: () => errLines.join('\n'),
    exited: exitedPromise,
    hasExited: () => exited,
  };
}

/** Waits until the child's stdout satisfies `ready`, failing if it exits or takes too long. */
export async function waitForStdout<T>(child: Child, ready: (stdout: string) => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = ready(child.stdout());
    if (value !== undefined) return value;
    if (child.hasExited()) {
      throw new Error(`${child.name} exited before it was ready (exit ${await child.exited})\n${child.stderrTail()}`);
    }
    if (Date.now() > deadline) throw new Error(`${child.name} was not ready after ${timeoutMs} ms\n${child.stderrTail()}`);
    await sleep(50);
  }
}

/** SIGTERM, wait up to `graceMs` for the exit, then SIGKILL. */
export async function stopChild(child: Child, graceMs: number): Promise<void> {
  if (child.hasExited()) return;
  child.proc.kill('SIGTERM');
  // Unref'd: once the child has exited, the losing timer must not keep the bench alive.
  const timedOut = await Promise.race([child.exited.then(() => false), sleep(graceMs, true, { ref: false })]);
  if (timedOut && !child.hasExited()) {
    log(`${child.name} did not exit within ${graceMs} ms of SIGTERM; sending SIGKILL`);
    child.proc.kill('SIGKILL');
    await child.exited;
  }
  log(`${child.name} exited (${await child.exited})`);
}


/**
 * The Dealix child stops its PostgreSQL on SIGTERM. If it could not (it was killed, say),
 * the postmaster it started is still running: stop that one, by the pid in its own pid file.
 */
export async function stopOrphanPostmaster(pgDataDir: string): Promise<void> {
  const pid = postmasterPidOf(pgDataDir);
  if (pid === undefined || !isAlive(pid)) return;
  log(`PostgreSQL (pid ${pid}) is still running; sending it SIGINT (fast shutdown)`);
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < 15_000 && isAlive(pid); waited += 100) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

/** A temp dir PostgreSQL can traverse when it runs as the `postgres` user (we may be root). */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Resident set size of a process in MiB, from /proc/<pid>/status (VmRSS). */
export async function readRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

const CLOCK_TICKS_PER_S = 100;

/** utime+stime (and, with `children`, cutime+cstime of reaped children) in seconds. */
async function cpuSecondsOf(pid: number, children: boolean): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" that closes the command name: state is field 3, utime field 14.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const at = (field: number) => Number(fields[field - 3] ?? 0);
    return (at(14) + at(15) + (children ? at(16) + at(17) : 0)) / CLOCK_TICKS_PER_S;
  } catch {
    return 0; // exited meanwhile
  }
}

async function childPids(parent: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

/** Busy and total CPU seconds of the whole machine, from /proc/stat. */
async function machineCpuSeconds(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, v) => sum + v, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: (total - idle) / CLOCK_TICKS_PER_S, total: total / CLOCK_TICKS_PER_S };
}

export interface CpuSample {
  server: number;
  postgres: number;
  bench: number;
  machineBusy: number;
  machineTotal: number;
}

/**
 * CPU seconds used so far by the server process, by PostgreSQL (the postmaster, its live
 * backends, and the ones it has reaped) and by this process; for a per-request breakdown.
 */
export async function sampleCpu(serverPid: number, postmasterPid: number | undefined): Promise<CpuSample> {
  let postgres = 0;
  if (postmasterPid !== undefined) {
    postgres = await cpuSecondsOf(postmasterPid, true);
    for (const pid of await childPids(postmasterPid)) postgres += await cpuSecondsOf(pid, false);
  }
  const usage = process.cpuUsage();
  const machine = await machineCpuSeconds();
  return {
    server: await cpuSecondsOf(serverPid, false),
    postgres,
    bench: (usage.user + usage.system) / 1e6,
    machineBusy: machine.busy,
    machineTotal: machine.total,
  };
}

export function postmasterPidOf(pgDataDir: string): number | undefined {
  const pidFile = path.join(pgDataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
