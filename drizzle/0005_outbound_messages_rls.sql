-- Outbound messages: the same FORCE RLS tenant policy as every other tenant table.
GRANT SELECT, INSERT, UPDATE, DELETE ON outbound_messages TO dealix_app;
--> statement-breakpoint
ALTER TABLE outbound_messages ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE outbound_messages FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON outbound_messages
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
