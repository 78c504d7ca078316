-- Tenancy is enforced by PostgreSQL, not by the app remembering a WHERE clause.
-- The app connects as dealix_app: not a superuser, owns nothing, NOBYPASSRLS. It is created
-- here (NOLOGIN) when the operator has not made it; the server gives it LOGIN and a password.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dealix_app') THEN
    CREATE ROLE dealix_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO dealix_app;
--> statement-breakpoint
-- /readyz compares this table with the shipped journal, as the app role.
GRANT USAGE ON SCHEMA drizzle TO dealix_app;
--> statement-breakpoint
GRANT SELECT ON drizzle.__drizzle_migrations TO dealix_app;
--> statement-breakpoint
-- Tenants are created by the platform operator (CLI, owner role); the app only reads its own.
GRANT SELECT ON tenants TO dealix_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON users, contacts, deals, activities, idempotency_keys TO dealix_app;
--> statement-breakpoint
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON tenants
  USING (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
-- The platform operator (the migrating owner role, CLI only) creates and looks up tenants by
-- slug. This is the one cross-tenant read, and it is granted to the owner alone, never to dealix_app.
CREATE POLICY platform_operator ON tenants TO CURRENT_USER USING (true) WITH CHECK (true);
--> statement-breakpoint
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE users FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON users
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE contacts FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON contacts
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
ALTER TABLE deals ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE deals FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON deals
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
ALTER TABLE activities ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE activities FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON activities
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON idempotency_keys
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
-- Expired keys are purged across tenants by the owner's maintenance sweep; nothing else.
-- A DELETE with a WHERE clause must also pass a SELECT policy, hence the pair.
CREATE POLICY platform_purge_expired ON idempotency_keys FOR DELETE TO CURRENT_USER USING (expires_at < now());
--> statement-breakpoint
CREATE POLICY platform_read_expired ON idempotency_keys FOR SELECT TO CURRENT_USER USING (expires_at < now());
