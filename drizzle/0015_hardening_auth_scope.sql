-- Hardening: authorization and scope (issue 9 items 1-5).
-- Item 1: an Idempotency-Key belongs to its caller (tenant + token subject). Keys stored before
-- this migration have no known subject; they are kept under '' (never matched again) and expire
-- with their TTL, so a client retrying across the upgrade runs once more rather than replaying
-- another user's answer.
ALTER TABLE "idempotency_keys" ADD COLUMN "subject" text NOT NULL DEFAULT '';--> statement-breakpoint
ALTER TABLE "idempotency_keys" ALTER COLUMN "subject" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "idempotency_keys" DROP CONSTRAINT "idempotency_keys__pkey";--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys__pkey" PRIMARY KEY ("tenant_id", "subject", "key");--> statement-breakpoint
-- Item 3: the deal an approval request is about, so own-only roles see the requests of their deals
-- through an index. Filled on open from the payload's deal_id; backfilled the same way.
ALTER TABLE "approval_requests" ADD COLUMN "deal_id" uuid;--> statement-breakpoint
UPDATE "approval_requests" SET "deal_id" = ("payload"->>'deal_id')::uuid
 WHERE "payload"->>'deal_id' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';--> statement-breakpoint
CREATE INDEX "approval_requests__tenant_deal_idx" ON "approval_requests" USING btree ("tenant_id", "deal_id", "id" DESC NULLS LAST) WHERE "deal_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "approval_requests__tenant_requester_idx" ON "approval_requests" USING btree ("tenant_id", "requester", "id" DESC NULLS LAST);
