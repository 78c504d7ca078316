-- Hardening: data integrity (issue 9 items 18 and 19) and the WhatsApp send's short transactions (items 11 and 12).
-- Each section is owned by one change; keep them apart so they merge cleanly.

-- section: data integrity (items 18, 19)
-- Every table below has FORCE ROW LEVEL SECURITY and this runs as the owner with no app.tenant_id:
-- an UPDATE (or the reads it joins) would see no row at all and the backfills would do nothing.
-- FORCE is lifted for them and restored at the end of the section. The migration runs in one
-- transaction and ALTER TABLE holds ACCESS EXCLUSIVE until it commits, so no other session ever
-- sees these tables without FORCE. ENABLE stays on throughout: dealix_app is never unconfined.
ALTER TABLE "tenant_signing_keys" NO FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "deals" NO FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "flow_runs" NO FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "decisions" NO FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "approval_requests" NO FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- Item 18: one active signing key per tenant. Two racing first uses could each insert one. Keep
-- the newest (the one activeSigningKey read: created_at DESC, kid breaking ties) and retire the
-- others; tokens they signed still verify, since verification finds a key by kid, retired or not.
UPDATE "tenant_signing_keys" k SET "retired_at" = now()
 WHERE k."retired_at" IS NULL
   AND EXISTS (
     SELECT 1 FROM "tenant_signing_keys" newer
      WHERE newer."tenant_id" = k."tenant_id" AND newer."retired_at" IS NULL
        AND (newer."created_at", newer."kid") > (k."created_at", k."kid"));
--> statement-breakpoint
CREATE UNIQUE INDEX "tenant_signing_keys__active_key" ON "tenant_signing_keys" USING btree ("tenant_id") WHERE "tenant_signing_keys"."retired_at" IS NULL;
--> statement-breakpoint
-- Item 19: decisions and runs name their deal in a column, so the deal timeline reads them by
-- index instead of a JSON path over every run of the tenant, and sees decisions that started no run.
ALTER TABLE "flow_runs" ADD COLUMN "deal_id" uuid;
--> statement-breakpoint
ALTER TABLE "decisions" ADD COLUMN "deal_id" uuid;
--> statement-breakpoint
ALTER TABLE "flow_runs" ADD CONSTRAINT "flow_runs__deal_id__fk" FOREIGN KEY ("tenant_id","deal_id") REFERENCES "public"."deals"("tenant_id","id") ON DELETE no action ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "decisions" ADD CONSTRAINT "decisions__deal_id__fk" FOREIGN KEY ("tenant_id","deal_id") REFERENCES "public"."deals"("tenant_id","id") ON DELETE no action ON UPDATE no action;
--> statement-breakpoint
-- Backfill from the JSON the rows carry: a gateway run's input.payload.deal_id, a timed reply's
-- input.deal_id. Matched as text against the tenant's own deals, so a value that is not a UUID,
-- or names no deal of that tenant, links nothing (and cannot fail the migration on a cast).
UPDATE "flow_runs" r SET "deal_id" = d."id"
  FROM "deals" d
 WHERE d."tenant_id" = r."tenant_id"
   AND d."id"::text = lower(COALESCE(r."input" #>> '{payload,deal_id}', r."input" ->> 'deal_id'));
--> statement-breakpoint
-- A decision that started (or found) a run: that run's deal.
UPDATE "decisions" x SET "deal_id" = r."deal_id"
  FROM "flow_runs" r
 WHERE r."tenant_id" = x."tenant_id" AND r."id" = x."flow_run_id" AND r."deal_id" IS NOT NULL;
--> statement-breakpoint
-- A decision that opened or used an approval request and started no run: the request's payload.
-- Decisions with neither (forbidden, failed before a request) kept no payload; they stay NULL.
UPDATE "decisions" x SET "deal_id" = d."id"
  FROM "approval_requests" a
  JOIN "deals" d ON d."tenant_id" = a."tenant_id" AND d."id"::text = lower(a."payload" ->> 'deal_id')
 WHERE x."deal_id" IS NULL AND a."tenant_id" = x."tenant_id" AND a."id" = x."approval_request_id";
--> statement-breakpoint
-- The timeline's read (newest first, limited): scanned backwards, it serves ORDER BY created_at DESC, id DESC.
CREATE INDEX "decisions__tenant_deal_idx" ON "decisions" USING btree ("tenant_id","deal_id","created_at","id") WHERE "decisions"."deal_id" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX "flow_runs__tenant_deal_idx" ON "flow_runs" USING btree ("tenant_id","deal_id","id") WHERE "flow_runs"."deal_id" IS NOT NULL;
--> statement-breakpoint
ALTER TABLE "tenant_signing_keys" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "deals" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "flow_runs" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "decisions" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "approval_requests" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- end of section: data integrity



-- section: whatsapp send (items 11, 12)
--> statement-breakpoint
-- `sending`: the send step claimed the message in a short transaction and calls the provider
-- with none open; an opt-out that commits after the claim reports it in flight.
ALTER TABLE "outbound_messages" DROP CONSTRAINT "outbound_messages__status__check",
  ADD CONSTRAINT "outbound_messages__status__check" CHECK ("outbound_messages"."status" IN ('queued', 'sending', 'sent', 'failed', 'cancelled'));

-- end of section: whatsapp send
