CREATE TABLE "whatsapp_credentials" (
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"provider" text NOT NULL,
	"sealed" text NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "whatsapp_credentials__pk" PRIMARY KEY("tenant_id","provider"),
	CONSTRAINT "whatsapp_credentials__provider__check" CHECK ("whatsapp_credentials"."provider" IN ('green-api', 'ultramsg', 'fonnte', 'meta-cloud'))
);
--> statement-breakpoint
CREATE TABLE "whatsapp_send_attempts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"outbound_id" uuid,
	"flow_run_id" uuid,
	"provider" text NOT NULL,
	"outcome" text NOT NULL,
	"code" text,
	"reason" text,
	"external_id" text,
	"latency_ms" integer,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "whatsapp_send_attempts__outcome__check" CHECK ("whatsapp_send_attempts"."outcome" IN ('started', 'accepted', 'transient', 'permanent', 'skipped'))
);
--> statement-breakpoint
CREATE TABLE "whatsapp_webhook_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"provider" text NOT NULL,
	"kind" text NOT NULL,
	"provider_message_id" text,
	"event" jsonb NOT NULL,
	"raw_body" text NOT NULL,
	"flow_run_id" uuid,
	"processed_at" timestamp with time zone,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "whatsapp_webhook_events__kind__check" CHECK ("whatsapp_webhook_events"."kind" IN ('message', 'status', 'ignored'))
);
--> statement-breakpoint
CREATE TABLE "whatsapp_webhook_keys" (
	"tenant_id" uuid PRIMARY KEY DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"key_sha256" text NOT NULL,
	"sealed_key" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "whatsapp_webhook_keys__key_sha256__key" UNIQUE("key_sha256")
);
--> statement-breakpoint
ALTER TABLE "outbound_messages" ADD COLUMN "delivery_status" text;--> statement-breakpoint
ALTER TABLE "outbound_messages" ADD COLUMN "delivered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "outbound_messages" ADD COLUMN "read_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "whatsapp_credentials" ADD CONSTRAINT "whatsapp_credentials__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "whatsapp_send_attempts" ADD CONSTRAINT "whatsapp_send_attempts__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "whatsapp_webhook_events" ADD CONSTRAINT "whatsapp_webhook_events__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "whatsapp_webhook_keys" ADD CONSTRAINT "whatsapp_webhook_keys__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "whatsapp_send_attempts__tenant_provider_idx" ON "whatsapp_send_attempts" USING btree ("tenant_id","provider","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "whatsapp_send_attempts__tenant_outbound_idx" ON "whatsapp_send_attempts" USING btree ("tenant_id","outbound_id");--> statement-breakpoint
CREATE UNIQUE INDEX "whatsapp_webhook_events__message_key" ON "whatsapp_webhook_events" USING btree ("tenant_id","provider","provider_message_id") WHERE "whatsapp_webhook_events"."kind" = 'message';--> statement-breakpoint
CREATE INDEX "outbound_messages__tenant_provider_external_idx" ON "outbound_messages" USING btree ("tenant_id","provider","external_id");--> statement-breakpoint
ALTER TABLE "outbound_messages" ADD CONSTRAINT "outbound_messages__delivery_status__check" CHECK ("outbound_messages"."delivery_status" IN ('sent', 'delivered', 'read', 'failed'));