CREATE TABLE "approval_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"action" text NOT NULL,
	"payload" jsonb NOT NULL,
	"payload_sha256" text NOT NULL,
	"requester" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"sla_due_at" timestamp with time zone NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"decision_reason" text,
	"correlation_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "approval_requests__status__check" CHECK ("approval_requests"."status" IN ('pending', 'approved', 'rejected'))
);
--> statement-breakpoint
CREATE TABLE "approval_token_uses" (
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"token_id" text NOT NULL,
	"decision_id" uuid NOT NULL,
	"standing_approval_id" uuid,
	"used_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "approval_token_uses__pkey" PRIMARY KEY("tenant_id","token_id")
);
--> statement-breakpoint
CREATE TABLE "canary_memberships" (
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"subject" text NOT NULL,
	"version" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "canary_memberships__pkey" PRIMARY KEY("tenant_id","subject")
);
--> statement-breakpoint
CREATE TABLE "canary_rollouts" (
	"subject" text NOT NULL,
	"version" text NOT NULL,
	"percentage" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "canary_rollouts__pkey" PRIMARY KEY("subject","version"),
	CONSTRAINT "canary_rollouts__percentage__check" CHECK ("canary_rollouts"."percentage" BETWEEN 0 AND 100)
);
--> statement-breakpoint
CREATE TABLE "dead_letters" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"run_id" uuid NOT NULL,
	"flow_name" text NOT NULL,
	"step" text NOT NULL,
	"error" jsonb NOT NULL,
	"attempts" integer NOT NULL,
	"escalation" text,
	"replayed_at" timestamp with time zone,
	"replay_run_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "decisions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"correlation_id" text,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"policy_class" text NOT NULL,
	"matched_rule" text NOT NULL,
	"policy_version" text NOT NULL,
	"payload_sha256" text NOT NULL,
	"result" text NOT NULL,
	"reason" text NOT NULL,
	"approval_request_id" uuid,
	"standing_approval_id" uuid,
	"approval_token_id" text,
	"canary_version" text,
	"flow_run_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "flow_checkpoints" (
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"run_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"step" text,
	"status" text NOT NULL,
	"note" text,
	"state" jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "flow_checkpoints__pkey" PRIMARY KEY("tenant_id","run_id","seq")
);
--> statement-breakpoint
CREATE TABLE "flow_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"flow_name" text NOT NULL,
	"flow_version" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"input" jsonb NOT NULL,
	"state" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"output" jsonb,
	"next_step" integer DEFAULT 0 NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"wait_signal" text,
	"wait_until" timestamp with time zone,
	"cancel_requested" boolean DEFAULT false NOT NULL,
	"idempotency_key" text,
	"correlation_id" text,
	"canary_version" text,
	"error" jsonb,
	"replay_of" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "flow_runs__tenant_id_id__key" UNIQUE("tenant_id","id"),
	CONSTRAINT "flow_runs__status__check" CHECK ("flow_runs"."status" IN ('pending', 'running', 'waiting', 'completed', 'failed', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "flow_signals" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"run_id" uuid NOT NULL,
	"name" text NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"consumed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "policy_overrides" (
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"action" text NOT NULL,
	"policy_class" text NOT NULL,
	"reason" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "policy_overrides__pkey" PRIMARY KEY("tenant_id","action"),
	CONSTRAINT "policy_overrides__class__check" CHECK ("policy_overrides"."policy_class" IN ('B', 'C'))
);
--> statement-breakpoint
CREATE TABLE "side_effects" (
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"run_id" uuid NOT NULL,
	"step" text NOT NULL,
	"status" text DEFAULT 'recorded' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"result" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "side_effects__pkey" PRIMARY KEY("tenant_id","idempotency_key"),
	CONSTRAINT "side_effects__status__check" CHECK ("side_effects"."status" IN ('recorded', 'done', 'compensated'))
);
--> statement-breakpoint
CREATE TABLE "standing_approvals" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"action" text NOT NULL,
	"conditions" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"granted_by" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tenant_signing_keys" (
	"tenant_id" uuid DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid NOT NULL,
	"kid" text NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"private_key_sealed" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone,
	CONSTRAINT "tenant_signing_keys__pkey" PRIMARY KEY("tenant_id","kid")
);
--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "tags" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "approval_requests" ADD CONSTRAINT "approval_requests__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approval_token_uses" ADD CONSTRAINT "approval_token_uses__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "canary_memberships" ADD CONSTRAINT "canary_memberships__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dead_letters" ADD CONSTRAINT "dead_letters__run_id__fk" FOREIGN KEY ("tenant_id","run_id") REFERENCES "public"."flow_runs"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "decisions" ADD CONSTRAINT "decisions__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flow_checkpoints" ADD CONSTRAINT "flow_checkpoints__run_id__fk" FOREIGN KEY ("tenant_id","run_id") REFERENCES "public"."flow_runs"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flow_runs" ADD CONSTRAINT "flow_runs__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flow_signals" ADD CONSTRAINT "flow_signals__run_id__fk" FOREIGN KEY ("tenant_id","run_id") REFERENCES "public"."flow_runs"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_overrides" ADD CONSTRAINT "policy_overrides__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "side_effects" ADD CONSTRAINT "side_effects__run_id__fk" FOREIGN KEY ("tenant_id","run_id") REFERENCES "public"."flow_runs"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "standing_approvals" ADD CONSTRAINT "standing_approvals__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tenant_signing_keys" ADD CONSTRAINT "tenant_signing_keys__tenant_id__fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "approval_requests__open_key" ON "approval_requests" USING btree ("tenant_id","action","payload_sha256") WHERE "approval_requests"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "approval_requests__tenant_status_idx" ON "approval_requests" USING btree ("tenant_id","status","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "approval_token_uses__standing_idx" ON "approval_token_uses" USING btree ("tenant_id","standing_approval_id","used_at");--> statement-breakpoint
CREATE INDEX "dead_letters__tenant_idx" ON "dead_letters" USING btree ("tenant_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "decisions__tenant_idx" ON "decisions" USING btree ("tenant_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "decisions__tenant_action_idx" ON "decisions" USING btree ("tenant_id","action","id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "flow_runs__idempotency_key" ON "flow_runs" USING btree ("tenant_id","idempotency_key") WHERE "flow_runs"."idempotency_key" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "flow_runs__tenant_status_idx" ON "flow_runs" USING btree ("tenant_id","status","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "flow_signals__run_idx" ON "flow_signals" USING btree ("tenant_id","run_id","name") WHERE "flow_signals"."consumed_at" IS NULL;--> statement-breakpoint
CREATE INDEX "standing_approvals__tenant_action_idx" ON "standing_approvals" USING btree ("tenant_id","action");