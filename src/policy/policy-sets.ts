/**
 * Policy classes (SPEC §2) as versioned data. A version is immutable once shipped: a change
 * is a new version, rolled out through canary (see src/gateway/canary.ts), and every
 * decision records the version it was made under.
 */
export const POLICY_CLASSES = {
  /** Safe and automatic: runs without approval. */
  A: 'A',
  /** Needs approval: a valid approval token, or a standing approval that fits. */
  B: 'B',
  /** Forbidden, always. */
  C: 'C',
} as const;
export type PolicyClass = keyof typeof POLICY_CLASSES;

export interface PolicySet {
  version: string;
  description: string;
  classes: Record<PolicyClass, readonly string[]>;
  /** Class of any action the table does not list. */
  unknown: PolicyClass;
  /** Hours an approval request may wait before its SLA is breached, and when it turns to warning. */
  approvalSla: { hours: number; warnAtFraction: number };
}

const V1: PolicySet = {
  version: 'v1',
  description: 'SPEC §2 as written',
  classes: {
    A: ['read_status', 'collect_signals', 'summarize', 'classify', 'tag', 'internal_status_update', 'research', 'generate_draft', 'plan', 'predictive_analysis'],
    B: [
      'send_whatsapp', 'send_email', 'send_linkedin', 'trigger_voice_call', 'sync_salesforce', 'create_charge', 'publish_content',
      'change_billing_state', 'modify_lead_routing', 'send_contract_for_signature', 'video_generate', 'music_generate',
    ],
    C: ['exfiltrate_secrets', 'delete_data_without_audit', 'bypass_auth', 'publish_without_approval', 'destructive_unchecked'],
  },
  unknown: 'B',
  approvalSla: { hours: 4, warnAtFraction: 0.75 },
};

/**
 * v2 (canary): `tag` needs approval. It exists so a tenant can be moved to a stricter table
 * and back without a deploy, and so the canary path is exercised for real.
 */
const V2: PolicySet = {
  ...V1,
  version: 'v2',
  description: 'v1, with tag raised to class B',
  classes: { ...V1.classes, A: V1.classes.A.filter((a) => a !== 'tag'), B: [...V1.classes.B, 'tag'] },
};

export const POLICY_SETS: Record<string, PolicySet> = { v1: V1, v2: V2 };
export const DEFAULT_POLICY_VERSION = 'v1';

export interface ClassifiedAction {
  policyClass: PolicyClass;
  /** Which rule decided: `table:<class>`, `unknown_action`, or `tenant_override`. */
  matchedRule: string;
  policyVersion: string;
}

/**
 * The class of an action under a policy set and the tenant's overrides. Overrides only
 * tighten: an override that would loosen (B over a C action, anything over C) is ignored.
 */
export function classifyAction(action: string, set: PolicySet, override: PolicyClass | undefined): ClassifiedAction {
  const listed = (Object.keys(set.classes) as PolicyClass[]).find((cls) => set.classes[cls].includes(action));
  const base: PolicyClass = listed ?? set.unknown;
  const baseRule = listed ? `table:${listed}` : 'unknown_action';
  if (override && strictness(override) > strictness(base)) {
    return { policyClass: override, matchedRule: 'tenant_override', policyVersion: set.version };
  }
  return { policyClass: base, matchedRule: baseRule, policyVersion: set.version };
}

function strictness(cls: PolicyClass): number {
  return cls === 'A' ? 0 : cls === 'B' ? 1 : 2;
}
