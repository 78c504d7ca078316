import { sql } from 'drizzle-orm';
import type { Logger } from '../http/logger.ts';
import type { DealScope } from '../deals/deals.store.ts';
import { loadLifecycleConfig } from '../os-settings/os-settings.store.ts';
import { problemBody, toAppError, validationError } from '../http/problem.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { ZProcessRequest, type TBulkProcessResult } from './os.schemas.ts';
import { processEvent } from './process-event.ts';

export interface BulkProcessOptions {
  tx: TenantTx;
  tenantId: string;
  /** The envelope's items, each still unvalidated: every item is checked on its own. */
  events: readonly unknown[];
  scope: DealScope;
  correlationId: string;
  logger: Logger;
  now?: Date;
}

/**
 * /os/bulk-process: /os/process for each event, in order, in the caller's tenant transaction.
 * Decide-only, so it writes nothing. Each item answers its own result or its own problem: an
 * invalid item gets a validation problem naming its fields (relative to the item), a thrown
 * AppError its problem, anything unexpected a generic `internal` problem (the cause is logged).
 *
 * A database error aborts a Postgres transaction, which would fail every later item; a
 * savepoint taken once up front is rolled back to after a failed item, so the rest go on.
 * (Nothing is written, so rolling back loses nothing.)
 */
export async function bulkProcess({ tx, tenantId, events, scope, correlationId, logger, now }: BulkProcessOptions): Promise<{ results: TBulkProcessResult[] }> {
  // Read once: every event of the call is decided with the same templates and hours.
  const config = await loadLifecycleConfig(tx, tenantId);
  await tx.execute(sql`SAVEPOINT os_bulk_process`);
  const results: TBulkProcessResult[] = [];
  for (const [index, item] of events.entries()) {
    const parsed = ZProcessRequest.safeParse(item);
    if (!parsed.success) {
      results.push({ index, ok: false, problem: problemBody(validationError(parsed.error, 'json'), correlationId) });
      continue;
    }
    try {
      results.push({ index, ok: true, result: await processEvent({ tx, tenantId, input: parsed.data, scope, correlationId, config, ...(now ? { now } : {}) }) });
    } catch (error) {
      await tx.execute(sql`ROLLBACK TO SAVEPOINT os_bulk_process`);
      const appError = toAppError(error);
      if (appError.code === 'internal') logger.error({ err: error, index, correlation_id: correlationId }, 'os bulk-process: an event failed unexpectedly');
      results.push({ index, ok: false, problem: problemBody(appError, correlationId) });
    }
  }
  return { results };
}

