DROP INDEX "deals__tenant_contact_idx";--> statement-breakpoint
CREATE INDEX "deals__tenant_contact_opted_out_idx" ON "deals" USING btree ("tenant_id","contact_id") WHERE "deals"."stage" = 'opted_out';--> statement-breakpoint
CREATE INDEX "deals__tenant_contact_idx" ON "deals" USING btree ("tenant_id","contact_id","id");