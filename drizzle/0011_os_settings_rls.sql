-- Template versions and lifecycle settings: the same FORCE RLS tenant policy as every other tenant table.
-- Append-only: the app may read and add versions, never rewrite or delete one.
GRANT SELECT, INSERT ON template_versions TO dealix_app;
--> statement-breakpoint
ALTER TABLE template_versions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE template_versions FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON template_versions
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
GRANT SELECT, INSERT ON os_settings_versions TO dealix_app;
--> statement-breakpoint
ALTER TABLE os_settings_versions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE os_settings_versions FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON os_settings_versions
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
-- Timed replies (out-of-hours replies, not-now follow-ups) are found by contact when the
-- contact opts out (cancelled in the same transaction) or writes again (superseded).
CREATE INDEX flow_runs__timed_reply_contact_idx ON flow_runs (tenant_id, (input->>'contact_id'))
  WHERE flow_name = 'os:timed_reply' AND status NOT IN ('completed', 'failed', 'cancelled');
