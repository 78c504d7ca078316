import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

/**
 * A run killed with SIGKILL leaves PostgreSQL behind: either the postmaster itself, still
 * running and holding the port and the data dir, or only its postmaster.pid lock file. On the
 * next start we must not fail with PostgreSQL's terse "lock file already exists".
 *
 * - Lock file names a live postgres process for this data dir → it is our orphan: ask it for
 *   a fast shutdown (SIGINT), escalate to immediate (SIGQUIT) if it hangs, wait for it to go.
 * - Lock file names a dead pid, or a pid now reused by something that is not postgres → the
 *   lock is stale; removing it is safe because no postmaster can be using this directory.
 */
export type StalePostmasterOutcome = 'none' | 'stopped_orphan' | 'removed_stale_lock';

export async function recoverStalePostmaster(pgDataDir: string, logger: Logger): Promise<StalePostmasterOutcome> {
  const lockFile = path.join(pgDataDir, 'postmaster.pid');
  let contents: string;
  try {
    contents = await readFile(lockFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw error;
  }
  const pid = Number.parseInt(contents.split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && (await isPostgresFor(pid, pgDataDir))) {
    const parent = await liveParent(pid);
    if (parent) {
      throw new Error(
        `PostgreSQL (pid ${pid}) for ${pgDataDir} belongs to a running process (pid ${parent.pid}: ${parent.command}). ` +
          'Another Dealix is probably using this data dir: stop it, or set DEALIX_DATA_DIR to another directory.',
      );
    }
    logger.warn({ pid, dataDir: pgDataDir }, 'found a PostgreSQL left running by a previous run; stopping it before starting a fresh one');
    await stopProcess(pid, logger);
    // A fast shutdown removes the lock itself; if it did not, it is now certainly stale.
    await rm(lockFile, { force: true });
    return 'stopped_orphan';
  }
  logger.warn({ pid, lockFile }, 'removing a stale postmaster.pid left by a previous run (its process is gone)');
  await rm(lockFile, { force: true });
  return 'removed_stale_lock';
}

async function isPostgresFor(pid: number, pgDataDir: string): Promise<boolean> {
  if (!isAlive(pid)) return false;
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    const isPostgres = cmdline.some((arg) => /(^|\/)postgres$/.test(arg));
    return isPostgres && cmdline.some((arg) => path.resolve(arg) === path.resolve(pgDataDir));
  } catch {
    // No /proc (macOS): trust the pid only if it is alive; a false positive costs a signal
    // to a process we could signal anyway, a false negative would delete a live lock.
    return process.platform !== 'linux';
  }
}

/** True when the postmaster is running for this data dir (the CLI then connects to it). */
export async function isPostmasterRunning(pgDataDir: string): Promise<boolean> {
  try {
    const pid = Number.parseInt((await readFile(path.join(pgDataDir, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 && (await isPostgresFor(pid, pgDataDir));
  } catch {
    return false;
  }
}

/**
 * An orphan has been re-parented to init (or a subreaper) when the Node process that
 * started it died. A postmaster whose parent is still a live node process is not an orphan.
 */
async function liveParent(pid: number): Promise<{ pid: number; command: string } | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const ppid = Number.parseInt(status.match(/^PPid:\s+(\d+)/m)?.[1] ?? '', 10);
    if (!ppid || ppid === 1) return undefined;
    const command = (await readFile(`/proc/${ppid}/cmdline`, 'utf8')).split('\0').join(' ').trim();
    return /(^|\/)node\b/.test(command) ? { pid: ppid, command: command.slice(0, 120) } : undefined;
  } catch {
    return undefined;
  }
}

/** True when a process with this pid exists (EPERM: it exists but is not ours to signal). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function stopProcess(pid: number, logger: Logger): Promise<void> {
  const steps: Array<{ signal: NodeJS.Signals; waitMs: number }> = [
    { signal: 'SIGINT', waitMs: 15_000 },
    { signal: 'SIGQUIT', waitMs: 10_000 },
    { signal: 'SIGKILL', waitMs: 5_000 },
  ];
  for (const { signal, waitMs } of steps) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (!isAlive(pid)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    logger.warn({ pid, signal }, 'orphaned PostgreSQL did not stop in time; escalating');
  }
  throw new Error(`Could not stop the PostgreSQL process ${pid} left by a previous run; stop it by hand and start again.`);
}
