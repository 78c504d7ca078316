-- Hardening: the flow engine (issue 9 items 7, 13, 14, 15).
-- One place builds a run's job key. It names the tenant: with the run alone, a key is global
-- in replace mode, so one tenant's enqueue could replace another tenant's run's job.
CREATE FUNCTION flow_job_key(p_tenant_id uuid, p_run_id uuid) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
  SELECT 'flow:' || p_tenant_id::text || ':' || p_run_id::text
$$;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION flow_job_key(uuid, uuid) TO dealix_app;
--> statement-breakpoint
-- Same signature, so the grant to dealix_app stays. The definer (the owner) sees every
-- pending or running run through platform_recovery, so the tenant is checked explicitly:
-- a run of another tenant (or none) is refused as insufficient privilege (the API's 404).
CREATE OR REPLACE FUNCTION enqueue_flow_advance(p_run_id uuid, p_run_at timestamptz DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  v_tenant uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
BEGIN
  IF v_tenant IS NULL THEN
    RAISE EXCEPTION 'enqueue_flow_advance needs app.tenant_id' USING ERRCODE = '42501';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM flow_runs WHERE tenant_id = v_tenant AND id = p_run_id) THEN
    RAISE EXCEPTION 'flow run % is not a run of this tenant', p_run_id USING ERRCODE = '42501';
  END IF;
  PERFORM graphile_worker.add_job(
    'flow_advance',
    json_build_object('tenantId', v_tenant, 'runId', p_run_id),
    job_key := flow_job_key(v_tenant, p_run_id),
    run_at := coalesce(p_run_at, now()),
    max_attempts := 25,
    job_key_mode := 'replace'
  );
END
$$;
--> statement-breakpoint
-- Jobs queued before this migration carry the old key 'flow:<run>': give them the new one,
-- or the next enqueue of their run would add a second job beside them.
UPDATE graphile_worker._private_jobs
   SET key = flow_job_key((payload->>'tenantId')::uuid, (payload->>'runId')::uuid)
 WHERE key ~ '^flow:[0-9a-f-]{36}$'
   AND payload->>'tenantId' IS NOT NULL AND payload->>'runId' IS NOT NULL;
--> statement-breakpoint
-- The periodic recovery sweep re-queues waiting runs too (a wait's timer job can die), so
-- the owner may see their ids as well.
ALTER POLICY platform_recovery ON flow_runs USING (status IN ('pending', 'running', 'waiting'));
