import { describe, expect, it } from 'vitest';
import { classifyAction, POLICY_SETS } from './policy-sets.ts';

const v1 = POLICY_SETS.v1 as NonNullable<(typeof POLICY_SETS)['v1']>;

describe('classifyAction', () => {
  it('follows the SPEC table exactly', () => {
    expect(classifyAction('summarize', v1, undefined)).toEqual({ policyClass: 'A', matchedRule: 'table:A', policyVersion: 'v1' });
    expect(classifyAction('send_whatsapp', v1, undefined).policyClass).toBe('B');
    expect(classifyAction('bypass_auth', v1, undefined).policyClass).toBe('C');
    expect(v1.classes.A).toHaveLength(10);
    expect(v1.classes.B).toHaveLength(12);
    expect(v1.classes.C).toHaveLength(5);
  });

  it('puts any unlisted action in class B', () => {
    expect(classifyAction('launch_rocket', v1, undefined)).toEqual({ policyClass: 'B', matchedRule: 'unknown_action', policyVersion: 'v1' });
  });

  it('lets a tenant tighten, never loosen', () => {
    expect(classifyAction('tag', v1, 'B')).toMatchObject({ policyClass: 'B', matchedRule: 'tenant_override' });
    expect(classifyAction('send_email', v1, 'C')).toMatchObject({ policyClass: 'C', matchedRule: 'tenant_override' });
    expect(classifyAction('bypass_auth', v1, 'B')).toMatchObject({ policyClass: 'C', matchedRule: 'table:C' });
    expect(classifyAction('send_email', v1, 'B')).toMatchObject({ policyClass: 'B', matchedRule: 'table:B' });
  });

  it('versions the table: v2 raises tag to class B', () => {
    expect(classifyAction('tag', POLICY_SETS.v2 as typeof v1, undefined)).toEqual({ policyClass: 'B', matchedRule: 'table:B', policyVersion: 'v2' });
  });
});
