-- Execution fabric: every tenant-scoped table gets the same FORCE RLS policy as the foundation.
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_signing_keys, policy_overrides, canary_memberships, approval_requests, standing_approvals, approval_token_uses, decisions, flow_runs, flow_checkpoints, flow_signals, side_effects, dead_letters TO dealix_app;
--> statement-breakpoint
-- The app reads rollout percentages; only the platform operator (owner) writes them.
GRANT SELECT ON canary_rollouts TO dealix_app;
--> statement-breakpoint
ALTER TABLE tenant_signing_keys ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE tenant_signing_keys FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON tenant_signing_keys
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
ALTER TABLE policy_overrides ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE policy_overrides FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON policy_overrides
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
ALTER TABLE canary_memberships ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE canary_memberships FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON canary_memberships
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
ALTER TABLE approval_requests ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE approval_requests FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON approval_requests
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
ALTER TABLE standing_approvals ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE standing_approvals FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON standing_approvals
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
ALTER TABLE approval_token_uses ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE approval_token_uses FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON approval_token_uses
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
ALTER TABLE decisions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE decisions FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON decisions
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
ALTER TABLE flow_runs ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE flow_runs FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON flow_runs
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
ALTER TABLE flow_checkpoints ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE flow_checkpoints FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON flow_checkpoints
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
ALTER TABLE flow_signals ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE flow_signals FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON flow_signals
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
ALTER TABLE side_effects ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE side_effects FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON side_effects
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
ALTER TABLE dead_letters ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE dead_letters FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON dead_letters
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
-- Crash recovery: at start the worker re-queues runs left pending or running by a dead
-- worker, across tenants. The owner may see those rows' ids, nothing else.
CREATE POLICY platform_recovery ON flow_runs FOR SELECT TO CURRENT_USER USING (status IN ('pending', 'running'));
--> statement-breakpoint
-- The app queues flow work in the same transaction as the state change that needs it, but
-- must not write graphile-worker's tables directly. This definer function (owned by the
-- owner, which installed graphile-worker) queues exactly one kind of job, for the caller's
-- own tenant only: the tenant id comes from app.tenant_id, not from an argument.
CREATE FUNCTION enqueue_flow_advance(p_run_id uuid, p_run_at timestamptz DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  v_tenant uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
BEGIN
  IF v_tenant IS NULL THEN
    RAISE EXCEPTION 'enqueue_flow_advance needs app.tenant_id' USING ERRCODE = '42501';
  END IF;
  PERFORM graphile_worker.add_job(
    'flow_advance',
    json_build_object('tenantId', v_tenant, 'runId', p_run_id),
    job_key := 'flow:' || p_run_id::text,
    run_at := coalesce(p_run_at, now()),
    max_attempts := 25,
    job_key_mode := 'replace'
  );
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION enqueue_flow_advance(uuid, timestamptz) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION enqueue_flow_advance(uuid, timestamptz) TO dealix_app;
