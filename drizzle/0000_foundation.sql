CREATE TABLE "activities" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"deal_id" uuid NOT NULL,
	"type" text NOT NULL,
	"actor" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"correlation_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "contacts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"phone_e164" text NOT NULL,
	"name" text,
	"company" text,
	"email" text,
	"preferred_language" text DEFAULT 'ar' NOT NULL,
	"owner_user_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "contacts__tenant_phone__key" UNIQUE("tenant_id","phone_e164"),
	CONSTRAINT "contacts__tenant_id_id__key" UNIQUE("tenant_id","id"),
	CONSTRAINT "contacts__phone_e164__check" CHECK ("contacts"."phone_e164" ~ '^\+[1-9][0-9]{6,14}$'),
	CONSTRAINT "contacts__preferred_language__check" CHECK ("contacts"."preferred_language" IN ('ar', 'en'))
);
--> statement-breakpoint
CREATE TABLE "deals" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"contact_id" uuid NOT NULL,
	"title" text NOT NULL,
	"stage" text DEFAULT 'new_lead' NOT NULL,
	"value_halalas" bigint DEFAULT 0 NOT NULL,
	"owner_user_id" uuid,
	"expected_close_date" date,
	"stage_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deals__tenant_id_id__key" UNIQUE("tenant_id","id"),
	CONSTRAINT "deals__stage__check" CHECK ("deals"."stage" IN ('new_lead', 'qualifying', 'qualified', 'nurturing', 'meeting_booked', 'meeting_done', 'proposal_sent', 'negotiating', 'payment_requested', 'pilot_active', 'closed_won', 'closed_lost', 'opted_out')),
	CONSTRAINT "deals__value_halalas__check" CHECK ("deals"."value_halalas" >= 0)
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"key" text NOT NULL,
	"fingerprint" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"response_status" integer,
	"response_body" text,
	"response_headers" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "idempotency_keys__pkey" PRIMARY KEY("tenant_id","key"),
	CONSTRAINT "idempotency_keys__key__check" CHECK (char_length("idempotency_keys"."key") BETWEEN 1 AND 255)
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenants__slug__key" UNIQUE("slug"),
	CONSTRAINT "tenants__slug__check" CHECK ("tenants"."slug" ~ '^[a-z0-9][a-z0-9-]{1,62}$')
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"email" text NOT NULL,
	"display_name" text NOT NULL,
	"roles" text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users__tenant_email__key" UNIQUE("tenant_id","email"),
	CONSTRAINT "users__tenant_id_id__key" UNIQUE("tenant_id","id"),
	CONSTRAINT "users__roles__check" CHECK (cardinality("users"."roles") > 0 AND "users"."roles" <@ ARRAY['admin', 'sales_manager', 'sales_rep', 'compliance_officer', 'executive', 'system']::text[])
);
--> statement-breakpoint
ALTER TABLE "activities" ADD CONSTRAINT "activities__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "activities" ADD CONSTRAINT "activities__deal_id__fk" FOREIGN KEY ("tenant_id","deal_id") REFERENCES "public"."deals"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts__owner_user_id__fk" FOREIGN KEY ("tenant_id","owner_user_id") REFERENCES "public"."users"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deals" ADD CONSTRAINT "deals__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deals" ADD CONSTRAINT "deals__contact_id__fk" FOREIGN KEY ("tenant_id","contact_id") REFERENCES "public"."contacts"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deals" ADD CONSTRAINT "deals__owner_user_id__fk" FOREIGN KEY ("tenant_id","owner_user_id") REFERENCES "public"."users"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "activities__tenant_deal_idx" ON "activities" USING btree ("tenant_id","deal_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "deals__tenant_id_idx" ON "deals" USING btree ("tenant_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "deals__tenant_stage_idx" ON "deals" USING btree ("tenant_id","stage","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "deals__tenant_owner_idx" ON "deals" USING btree ("tenant_id","owner_user_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "deals__tenant_contact_idx" ON "deals" USING btree ("tenant_id","contact_id");--> statement-breakpoint
CREATE INDEX "idempotency_keys__expires_idx" ON "idempotency_keys" USING btree ("expires_at");