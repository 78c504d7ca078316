CREATE TABLE "os_settings_versions" (
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"version" integer NOT NULL,
	"business_hours" jsonb NOT NULL,
	"template_variables" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "os_settings_versions__pk" PRIMARY KEY("tenant_id","version"),
	CONSTRAINT "os_settings_versions__version__check" CHECK ("os_settings_versions"."version" >= 1)
);
--> statement-breakpoint
CREATE TABLE "template_versions" (
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"template_id" text NOT NULL,
	"version" integer NOT NULL,
	"text" text NOT NULL,
	"variables" text[] NOT NULL,
	"note" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "template_versions__pk" PRIMARY KEY("tenant_id","template_id","version"),
	CONSTRAINT "template_versions__version__check" CHECK ("template_versions"."version" >= 1)
);
--> statement-breakpoint
ALTER TABLE "approval_requests" DROP CONSTRAINT "approval_requests__status__check";--> statement-breakpoint
ALTER TABLE "drafts" ADD COLUMN "approval_request_id" uuid;--> statement-breakpoint
ALTER TABLE "drafts" ADD COLUMN "origin_run_id" uuid;--> statement-breakpoint
ALTER TABLE "outbound_messages" ADD COLUMN "template_version" integer;--> statement-breakpoint
ALTER TABLE "os_settings_versions" ADD CONSTRAINT "os_settings_versions__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_versions" ADD CONSTRAINT "template_versions__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "drafts__origin_run_key" ON "drafts" USING btree ("tenant_id","origin_run_id") WHERE "drafts"."origin_run_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "approval_requests" ADD CONSTRAINT "approval_requests__status__check" CHECK ("approval_requests"."status" IN ('pending', 'approved', 'rejected', 'withdrawn'));