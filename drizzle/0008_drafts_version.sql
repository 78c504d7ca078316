ALTER TABLE "drafts" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "drafts" ADD COLUMN "last_edited_by" text;--> statement-breakpoint
ALTER TABLE "drafts" ADD COLUMN "decided_by" text;--> statement-breakpoint
ALTER TABLE "drafts" ADD COLUMN "decided_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "drafts" ADD COLUMN "decision_reason" text;--> statement-breakpoint
ALTER TABLE "drafts" ADD COLUMN "decision_id" uuid;--> statement-breakpoint
ALTER TABLE "drafts" ADD COLUMN "flow_run_id" uuid;