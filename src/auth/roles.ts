/**
 * Roles from SPEC §1. A token carries one or more; routes allow a set of them.
 * `platform_operator` is deliberately absent: it is a CLI-only power, never a token role.
 */
export const ROLES = {
  /** Everything inside the tenant: users, providers, templates, policies. */
  admin: 'admin',
  /** Approves/rejects class B actions, edits deals, sees the whole tenant. */
  sales_manager: 'sales_manager',
  /** Works their own leads and deals, edits drafts, asks for approval. */
  sales_rep: 'sales_rep',
  /** The DPO: consents, data exports, reviews, the compliance matrix. */
  compliance_officer: 'compliance_officer',
  /** Read-only: executive room, forecasts, evidence. */
  executive: 'executive',
  /** The workers; never a human login. */
  system: 'system',
} as const;

export type Role = (typeof ROLES)[keyof typeof ROLES];
export const ROLE_VALUES = Object.values(ROLES) as [Role, ...Role[]];

/**
 * Permissions as data: which roles may do what. Routes name a permission, never a role list,
 * so a policy change is one line here.
 */
export const PERMISSIONS = {
  /** Read contacts (the DPO needs them for consents and data-subject requests). */
  'contacts:read': ['admin', 'sales_manager', 'sales_rep', 'compliance_officer', 'executive'],
  /** Create and edit contacts. */
  'contacts:write': ['admin', 'sales_manager', 'sales_rep'],
  /** Read deals; a sales_rep only sees deals they own (see {@link OWN_ONLY_ROLES}). */
  'deals:read': ['admin', 'sales_manager', 'sales_rep', 'executive'],
  /** Create and edit deals, including stage transitions. */
  'deals:write': ['admin', 'sales_manager', 'sales_rep'],
  /** Call the gateway (every action still passes the policy gate). */
  'gateway:execute': ['admin', 'sales_manager', 'sales_rep', 'system'],
  /** Read the decision log. */
  'decisions:read': ['admin', 'sales_manager', 'compliance_officer', 'executive'],
  /** See approval requests (a sales_rep only those they opened or whose deal they own). */
  'approvals:read': ['admin', 'sales_manager', 'sales_rep', 'compliance_officer', 'executive'],
  /**
   * See the tenant's standing approvals. Not own-only roles: a grant is tenant-wide (nothing in
   * it to scope to one rep's deals), and it tells which calls would pass without a human.
   */
  'standing_approvals:read': ['admin', 'sales_manager', 'compliance_officer', 'executive'],
  /** Approve or reject class B actions; grant and revoke standing approvals. */
  'approvals:decide': ['admin', 'sales_manager'],
  /** Tighten the tenant's policy (never loosen class C). */
  'policy:manage': ['admin'],
  /** See flow runs and dead letters. */
  'flows:read': ['admin', 'sales_manager', 'compliance_officer'],
  /** Cancel, resume and signal runs; replay dead letters. */
  'flows:operate': ['admin', 'sales_manager', 'system'],
  /** Classify an inbound message's intent (pure: reads and writes nothing). */
  'intents:classify': ['admin', 'sales_manager', 'sales_rep', 'system'],
  /** Ask the lifecycle what to do with an event (POST /os/process: decides, changes nothing). */
  'os:process': ['admin', 'sales_manager', 'sales_rep', 'system'],
  /** Process an event and act on it (POST /os/process-and-act: records, moves the deal, replies or drafts). */
  'os:act': ['admin', 'sales_manager', 'sales_rep', 'system'],
  /** Read the tenant's reply templates, business hours and template variables. */
  'os:settings:read': ['admin', 'sales_manager', 'sales_rep', 'compliance_officer'],
  /** Edit reply templates (versioned), business hours and template variables. */
  'os:settings:write': ['admin'],
  /** See the WhatsApp providers' health and configuration (never their secrets). */
  'whatsapp:read': ['admin', 'sales_manager'],
  /** Set or remove WhatsApp provider credentials and webhook keys. */
  'whatsapp:manage': ['admin'],
  /** Send a test message through the provider chain (the gateway still requires an approval: class B). */
  'whatsapp:test_send': ['admin', 'sales_manager'],
  /** See reply drafts (a sales_rep only those of deals they own). */
  'drafts:read': ['admin', 'sales_manager', 'sales_rep', 'compliance_officer'],
  /** Edit a pending draft's text (a sales_rep only on deals they own). */
  'drafts:edit': ['admin', 'sales_manager', 'sales_rep'],
  /** Approve (send through the gateway) or reject a draft. */
  'drafts:decide': ['admin', 'sales_manager'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

/** Roles limited to records they own, unless they also hold a role that sees the tenant. */
export const OWN_ONLY_ROLES: readonly Role[] = ['sales_rep'];

export function hasPermission(roles: readonly Role[], permission: Permission): boolean {
  const allowed: readonly Role[] = PERMISSIONS[permission];
  return roles.some((role) => allowed.includes(role));
}

/** True when every role the caller holds for this permission is an own-records-only role. */
export function isLimitedToOwn(roles: readonly Role[], permission: Permission): boolean {
  const allowed: readonly Role[] = PERMISSIONS[permission];
  const granting = roles.filter((role) => allowed.includes(role));
  return granting.length > 0 && granting.every((role) => OWN_ONLY_ROLES.includes(role));
}
