import { createRoute, z } from '@hono/zod-openapi';
import { requirePermission } from '../auth/auth.middleware.ts';
import { AppError } from '../http/app-error.ts';
import { decodeCursor, toPage, ZPageMeta, ZPageQuery } from '../http/pagination.ts';
import { BEARER, COMMON_ERROR_RESPONSES, createRouter, IDEMPOTENCY_HEADER, jsonBody, jsonResponse, ZIdParam } from '../http/router.ts';
import { cancelFlow, replayDeadLetter, resumeFlow, signalFlow } from './flow-commands.ts';
import type { FlowRegistry } from './flow-definition.ts';
import { findRun, listCheckpoints, selectDeadLetters, selectRuns, type DeadLetterRow, type FlowCheckpointRow, type FlowRunRow } from './flows.store.ts';

const STATUSES = ['pending', 'running', 'waiting', 'completed', 'failed', 'cancelled'] as const;

const ZFlowRun = z
  .object({
    id: z.uuid(),
    flow: z.string(),
    version: z.string(),
    status: z.enum(STATUSES),
    next_step: z.number().int(),
    attempt: z.number().int(),
    next_attempt_at: z.string().nullable(),
    waiting_for: z.string().nullable(),
    wait_until: z.string().nullable(),
    cancel_requested: z.boolean(),
    correlation_id: z.string().nullable(),
    canary_version: z.string().nullable(),
    input: z.unknown(),
    state: z.unknown(),
    output: z.unknown(),
    error: z.unknown(),
    replay_of: z.uuid().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    completed_at: z.string().nullable(),
  })
  .openapi('FlowRun');

const ZCheckpoint = z
  .object({ seq: z.number().int(), step: z.string().nullable(), status: z.string(), note: z.string().nullable(), state: z.unknown(), at: z.string() })
  .openapi('FlowCheckpoint');

const ZDeadLetter = z
  .object({
    id: z.uuid(),
    run_id: z.uuid(),
    flow: z.string(),
    step: z.string(),
    error: z.unknown(),
    attempts: z.number().int(),
    escalation: z.string().nullable(),
    replayed_at: z.string().nullable(),
    replay_run_id: z.uuid().nullable(),
    created_at: z.string(),
  })
  .openapi('DeadLetter');

const toRun = (r: FlowRunRow) => ({
  id: r.id,
  flow: r.flowName,
  version: r.flowVersion,
  status: r.status as (typeof STATUSES)[number],
  next_step: r.nextStep,
  attempt: r.attempt,
  next_attempt_at: r.nextAttemptAt?.toISOString() ?? null,
  waiting_for: r.waitSignal,
  wait_until: r.waitUntil?.toISOString() ?? null,
  cancel_requested: r.cancelRequested,
  correlation_id: r.correlationId,
  canary_version: r.canaryVersion,
  input: r.input,
  state: r.state,
  output: r.output,
  error: r.error,
  replay_of: r.replayOf,
  created_at: r.createdAt.toISOString(),
  updated_at: r.updatedAt.toISOString(),
  completed_at: r.completedAt?.toISOString() ?? null,
});
const toCheckpoint = (c: FlowCheckpointRow) => ({ seq: c.seq, step: c.step, status: c.status, note: c.note, state: c.state, at: c.at.toISOString() });
const toDeadLetter = (d: DeadLetterRow) => ({
  id: d.id,
  run_id: d.runId,
  flow: d.flowName,
  step: d.step,
  error: d.error,
  attempts: d.attempts,
  escalation: d.escalation,
  replayed_at: d.replayedAt?.toISOString() ?? null,
  replay_run_id: d.replayRunId,
  created_at: d.createdAt.toISOString(),
});

export function flowsRoutes(deps: { registry: FlowRegistry }) {
  const router = createRouter();
  const statusList = z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.enum(STATUSES, { message: `must be one of ${STATUSES.join(', ')}` })).min(1));

  router.openapi(
    createRoute({
      method: 'get',
      path: '/flows',
      tags: ['Flows'],
      summary: 'Flow runs, newest first; `status=pending,running,waiting` lists the incomplete ones',
      security: BEARER,
      middleware: [requirePermission('flows:read')] as const,
      request: {
        query: z.object({
          ...ZPageQuery,
          status: statusList.optional().openapi({ param: { name: 'status', in: 'query' }, type: 'string' }),
          flow: z.string().optional().openapi({ param: { name: 'flow', in: 'query' } }),
        }),
      },
      responses: { 200: jsonResponse(z.object({ data: z.array(ZFlowRun), ...ZPageMeta }).openapi('FlowRunPage'), 'A page'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await selectRuns(c.var.tx, { statuses: q.status, flowName: q.flow, afterId: decodeCursor(q.cursor), limit: q.limit + 1 });
      return c.json(toPage(rows.map(toRun), q.limit), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/flows/{id}',
      tags: ['Flows'],
      summary: 'A flow run with its checkpoint history',
      security: BEARER,
      middleware: [requirePermission('flows:read')] as const,
      request: { params: ZIdParam },
      responses: { 200: jsonResponse(ZFlowRun.extend({ checkpoints: z.array(ZCheckpoint) }).openapi('FlowRunDetail'), 'The run'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      const run = await findRun(c.var.tx, id);
      if (!run) throw new AppError('not_found', `Flow run ${id} does not exist`);
      return c.json({ ...toRun(run), checkpoints: (await listCheckpoints(c.var.tx, id)).map(toCheckpoint) }, 200);
    },
  );

  for (const verb of ['cancel', 'resume'] as const) {
    router.openapi(
      createRoute({
        method: 'post',
        path: `/flows/{id}/${verb}`,
        tags: ['Flows'],
        summary: verb === 'cancel' ? 'Cancel a run (completed steps are compensated)' : 'Re-queue an incomplete run now',
        security: BEARER,
        middleware: [requirePermission('flows:operate')] as const,
        request: { params: ZIdParam },
        responses: { 202: jsonResponse(ZFlowRun, 'Queued'), ...COMMON_ERROR_RESPONSES },
      }),
      async (c) => {
        const runId = c.req.valid('param').id;
        const run = verb === 'cancel' ? await cancelFlow({ tx: c.var.tx, runId }) : await resumeFlow({ tx: c.var.tx, runId });
        return c.json(toRun(run), 202);
      },
    );
  }

  router.openapi(
    createRoute({
      method: 'post',
      path: '/flows/{id}/signals',
      tags: ['Flows'],
      summary: "Deliver a signal to a run's inbox (kept until the run waits for it)",
      security: BEARER,
      middleware: [requirePermission('flows:operate')] as const,
      request: {
        params: ZIdParam,
        headers: IDEMPOTENCY_HEADER,
        body: jsonBody(z.strictObject({ name: z.string().min(1).max(200), payload: z.record(z.string(), z.unknown()).default({}) }).openapi('FlowSignal')),
      },
      responses: { 202: jsonResponse(z.object({ signal_id: z.uuid() }), 'Delivered to the inbox'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const { signalId } = await signalFlow({ tx: c.var.tx, runId: c.req.valid('param').id, name: body.name, payload: body.payload });
      return c.json({ signal_id: signalId }, 202);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/dead-letters',
      tags: ['Flows'],
      summary: 'Runs that failed past their retries (not yet replayed, unless `all=true`)',
      security: BEARER,
      middleware: [requirePermission('flows:read')] as const,
      request: { query: z.object({ ...ZPageQuery, all: z.enum(['true', 'false']).default('false').openapi({ param: { name: 'all', in: 'query' } }) }) },
      responses: { 200: jsonResponse(z.object({ data: z.array(ZDeadLetter), ...ZPageMeta }).openapi('DeadLetterPage'), 'A page'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await selectDeadLetters(c.var.tx, decodeCursor(q.cursor), q.limit + 1, q.all === 'true');
      return c.json(toPage(rows.map(toDeadLetter), q.limit), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/dead-letters/{id}/replay',
      tags: ['Flows'],
      summary: 'Replay a dead letter as a new run with the same input',
      security: BEARER,
      middleware: [requirePermission('flows:operate')] as const,
      request: { params: ZIdParam, headers: IDEMPOTENCY_HEADER },
      responses: { 202: jsonResponse(ZFlowRun, 'The new run'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const { run } = await replayDeadLetter({ tx: c.var.tx, deadLetterId: c.req.valid('param').id, resolveFlow: (name, version) => deps.registry.get(name, version) });
      return c.json(toRun(run), 202);
    },
  );

  return router;
}
