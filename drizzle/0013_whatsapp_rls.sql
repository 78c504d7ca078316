-- WhatsApp tables (issue 5): the same FORCE RLS tenant policy as every other tenant table.
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON whatsapp_credentials TO dealix_app;
--> statement-breakpoint
ALTER TABLE whatsapp_credentials ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE whatsapp_credentials FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON whatsapp_credentials
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON whatsapp_webhook_keys TO dealix_app;
--> statement-breakpoint
ALTER TABLE whatsapp_webhook_keys ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE whatsapp_webhook_keys FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON whatsapp_webhook_keys
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON whatsapp_webhook_events TO dealix_app;
--> statement-breakpoint
ALTER TABLE whatsapp_webhook_events ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE whatsapp_webhook_events FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON whatsapp_webhook_events
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON whatsapp_send_attempts TO dealix_app;
--> statement-breakpoint
ALTER TABLE whatsapp_send_attempts ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE whatsapp_send_attempts FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON whatsapp_send_attempts
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
-- A webhook arrives before any tenant is known: its URL carries the tenant's key. This definer
-- function answers one question only, which tenant owns the key with this SHA-256, so the app
-- role never reads the keys table across tenants. The hash, not the key, is the argument:
-- the key never reaches a query log.
-- FORCE RLS binds the owner too: the definer function reads as the owner, through this
-- read-only policy on the hash lookup alone.
CREATE POLICY webhook_key_lookup ON whatsapp_webhook_keys FOR SELECT TO CURRENT_USER USING (true);
--> statement-breakpoint
CREATE FUNCTION whatsapp_webhook_tenant(p_key_sha256 text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT tenant_id FROM whatsapp_webhook_keys WHERE key_sha256 = p_key_sha256
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION whatsapp_webhook_tenant(text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION whatsapp_webhook_tenant(text) TO dealix_app;
