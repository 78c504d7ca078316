CREATE TABLE "outbound_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"contact_id" uuid NOT NULL,
	"deal_id" uuid,
	"channel" text DEFAULT 'whatsapp' NOT NULL,
	"to_e164" text NOT NULL,
	"body" text NOT NULL,
	"template_id" text,
	"language" text DEFAULT 'ar' NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"provider" text,
	"external_id" text,
	"idempotency_key" text NOT NULL,
	"flow_run_id" uuid,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone,
	"cancel_reason" text,
	CONSTRAINT "outbound_messages__tenant_idempotency_key__key" UNIQUE("tenant_id","idempotency_key"),
	CONSTRAINT "outbound_messages__channel__check" CHECK ("outbound_messages"."channel" IN ('whatsapp')),
	CONSTRAINT "outbound_messages__status__check" CHECK ("outbound_messages"."status" IN ('queued', 'sent', 'failed', 'cancelled')),
	CONSTRAINT "outbound_messages__language__check" CHECK ("outbound_messages"."language" IN ('ar', 'en')),
	CONSTRAINT "outbound_messages__to_e164__check" CHECK ("outbound_messages"."to_e164" ~ '^\+[1-9][0-9]{6,14}$')
);
--> statement-breakpoint
ALTER TABLE "outbound_messages" ADD CONSTRAINT "outbound_messages__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbound_messages" ADD CONSTRAINT "outbound_messages__contact_id__fk" FOREIGN KEY ("tenant_id","contact_id") REFERENCES "public"."contacts"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbound_messages" ADD CONSTRAINT "outbound_messages__deal_id__fk" FOREIGN KEY ("tenant_id","deal_id") REFERENCES "public"."deals"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "outbound_messages__tenant_contact_status_idx" ON "outbound_messages" USING btree ("tenant_id","contact_id","status");