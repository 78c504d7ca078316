/**
 * A flow worker in its own process, for crash tests: `node test/support/flow-crash-child.ts`.
 *
 * Env: APP_DB_URL, OWNER_DB_URL (required); FAULT_POINT (optional, a name from
 * src/flows/fault-points.ts: the process SIGKILLs itself there); FAKE_URL (the test's fake
 * provider; informational, runs carry it in their input); LOG_LEVEL (default 'warn', to stderr).
 *
 * Prints `worker ready recovered=<n>` on stdout once the worker is up. SIGTERM stops the
 * worker cleanly and exits 0. If the parent goes away (stdin closes) it exits too, so a
 * crashed test run leaves no orphan workers behind.
 */
import { createPool } from '../../src/db/client.ts';
import { FAULT_POINTS, killAt, type FaultPoint } from '../../src/config/fault-points.ts';
import { FlowRegistry } from '../../src/flows/flow-definition.ts';
import { startFlowWorker } from '../../src/flows/flow-worker.ts';
import { createLogger } from '../../src/http/logger.ts';
import { compensationProbeFlow, crashProbeFlow } from './crash-probe-flow.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const faultPoint = process.env.FAULT_POINT || undefined;
if (faultPoint !== undefined && !(faultPoint in FAULT_POINTS)) {
  throw new Error(`FAULT_POINT must be one of ${Object.keys(FAULT_POINTS).join(', ')}; got ${faultPoint}`);
}

const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', destination: process.stderr });
const appPool = createPool({ connectionString: required('APP_DB_URL'), max: 6, applicationName: 'dealix-crash-child' });
const ownerPool = createPool({ connectionString: required('OWNER_DB_URL'), max: 4, applicationName: 'dealix-crash-child-owner' });
const registry = new FlowRegistry();
registry.register(crashProbeFlow);
registry.register(compensationProbeFlow);

const worker = await startFlowWorker({
  appPool,
  ownerPool,
  registry,
  logger,
  concurrency: 2,
  pollIntervalMs: 200,
  faults: killAt(faultPoint as FaultPoint | undefined),
});

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  try {
    await worker.stop();
    await appPool.end();
    await ownerPool.end();
  } catch (error) {
    logger.error({ err: error }, 'crash child: unclean stop');
    code = 1;
  }
  process.exit(code);
}
process.once('SIGTERM', () => void shutdown(0));
process.stdin.on('end', () => void shutdown(0));
process.stdin.resume();

process.stdout.write(`worker ready recovered=${worker.recovered} pid=${process.pid}\n`);
