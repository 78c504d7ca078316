import { DEAL_STAGE_VALUES } from '../deals/deal-stages.ts';
import { LIFECYCLE, REPLY_TEMPLATES, type LifecycleEvent, type ReplyTemplate, templatesFor } from '../deals/lifecycle.ts';
import type { Intent } from '../intents/intents.ts';
import { classifyAction, DEFAULT_POLICY_VERSION, POLICY_SETS, type PolicySet } from '../policy/policy-sets.ts';
import type { TStagesResponse } from './os.schemas.ts';

/**
 * Every stage of the lifecycle with its transitions, triggers, entry actions (with their
 * policy class), templates (the tenant's, when given) and questions: the lifecycle table as the API shows it.
 */
export function describeStages(
  catalogue: readonly ReplyTemplate[] = REPLY_TEMPLATES,
  policySet: PolicySet = POLICY_SETS[DEFAULT_POLICY_VERSION] as PolicySet,
): TStagesResponse {
  return {
    data: DEAL_STAGE_VALUES.map((stage) => {
      const definition = LIFECYCLE[stage];
      return {
        stage,
        doc: definition.doc,
        terminal: definition.terminal,
        transitions: [...definition.next],
        triggers: {
          intents: Object.entries(definition.intents).map(([intent, rule]) => ({
            intent: intent as Intent,
            to: rule.to,
            reply: rule.reply ?? null,
            follow_up_days: rule.followUpDays ?? null,
            reason: rule.reason,
          })),
          events: [
            ...Object.entries(definition.events).map(([event, to]) => ({ event: event as LifecycleEvent, to })),
            ...definition.next.map((to) => ({ event: 'manual_stage_change' as const, to })),
          ],
        },
        entry_actions: definition.entryActions.map((entry) => ({ ...entry, class: classifyAction(entry.action, policySet, undefined).policyClass })),
        templates: templatesFor(definition.replies, catalogue).map((t) => ({ ...t, variables: [...t.variables] })),
        qualification_questions: definition.qualificationQuestions.map((q) => ({ ...q })),
        outbound_needs_human: definition.outboundNeedsHuman,
        outbound_allowed: definition.outboundAllowed,
      };
    }),
  };
}
