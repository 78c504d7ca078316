import { canTransition, type DealStage } from '../deals/deal-stages.ts';
import { chooseTemplate, LIFECYCLE, type LifecycleEvent, type ReplyPurpose, type ReplyTemplate, type TemplateLanguage } from '../deals/lifecycle.ts';
import { classifyIntent } from '../intents/classify-intent.ts';
import type { IntentClassifier } from '../intents/intent-classifier.ts';
import type { Intent, IntentClassification } from '../intents/intents.ts';
import { DEFAULT_BUSINESS_HOURS, describeBusinessHours, isWithinBusinessHours, nextBusinessOpening, type BusinessHours } from '../os-settings/business-hours.ts';
import { classifyAction, DEFAULT_POLICY_VERSION, POLICY_SETS, type PolicyClass, type PolicySet } from '../policy/policy-sets.ts';

/**
 * How an action would be carried out:
 * - `auto`: runs without a human (class A, or a templated reply in an early stage under the
 *   tenant's standing approval, which the gateway checks at act time);
 * - `draft`: a human approves (or writes) it first;
 * - `blocked`: never runs (class C, or any outbound to a terminal or opted-out deal);
 * - `scheduled`: would run automatically, but outside business hours: at `scheduled_for`.
 */
export const ACTION_MODES = ['auto', 'draft', 'blocked', 'scheduled'] as const;
export type ActionMode = (typeof ACTION_MODES)[number];

export interface DecidedAction {
  action: string;
  class: PolicyClass;
  mode: ActionMode;
  reason: string;
  /** ISO time of the next business opening, when mode is `scheduled`. */
  scheduled_for?: string;
}

export interface DecisionEvent {
  type: LifecycleEvent;
  text?: string | undefined;
  data?: Readonly<Record<string, unknown>> | undefined;
}

export interface DecisionContact {
  name?: string | null | undefined;
  company?: string | null | undefined;
  preferred_language?: TemplateLanguage | null | undefined;
}

export interface DecideNextStepInput {
  stage: DealStage;
  event: DecisionEvent;
  contact: DecisionContact;
  now: Date;
  /** Extra template variables (tenant settings such as price_range or meeting_link). */
  variables?: Readonly<Record<string, string>>;
  policySet?: PolicySet;
  classifier?: IntentClassifier;
  /** The tenant's reply templates (its edits over the built-ins); default: the built-ins. */
  templates?: readonly ReplyTemplate[];
  /** The tenant's business hours; default: Sun–Thu 09:00–18:00 Asia/Riyadh. */
  businessHours?: BusinessHours;
}

export interface Decision {
  /** null for events that are not messages. */
  intent: Intent | null;
  classification: IntentClassification | null;
  stage: { from: DealStage; to: DealStage; reason: string };
  actions: DecidedAction[];
  /** `variables`: the values the text was rendered with, so a send can render exactly this text again. */
  reply: { text: string; language: TemplateLanguage; template: string; template_version: number; variables: Record<string, string> } | null;
  /** The reply may go out without a human (now, or at the next business opening). */
  auto_send_allowed: boolean;
  /** At least one action waits for a human. */
  human_approval_required: boolean;
  /** not_now: when the follow-up timer fires. */
  follow_up_at: string | null;
}

/** The reply language: the contact's preferred one, else the message's when clearly Arabic or English, else Arabic. */
export function replyLanguage(contact: DecisionContact, classification: IntentClassification | null): TemplateLanguage {
  if (contact.preferred_language) return contact.preferred_language;
  if (classification?.language === 'en') return 'en';
  return 'ar';
}

const DAY_MS = 24 * 60 * 60 * 1000;

interface StageMove {
  to: DealStage;
  reason: string;
  reply?: ReplyPurpose | undefined;
  followUpDays?: number | undefined;
}

function moveFor(stage: DealStage, event: DecisionEvent, intent: Intent | null): StageMove {
  const definition = LIFECYCLE[stage];
  if (definition.terminal) return { to: stage, reason: `${stage} is terminal: it stays ${stage}` };
  if (event.type === 'inbound_message') {
    const rule = definition.intents[intent ?? 'unknown'];
    return rule ?? { to: stage, reason: `no rule for ${intent} in ${stage}: stays` };
  }
  if (event.type === 'manual_stage_change') {
    const to = event.data?.to;
    if (typeof to === 'string' && canTransition(stage, to as DealStage)) return { to: to as DealStage, reason: `moved by a person to ${to}` };
    return { to: stage, reason: `manual change to ${String(to)} is not an allowed transition from ${stage}: stays` };
  }
  const to = definition.events[event.type];
  return to ? { to, reason: `${event.type}: ${stage} → ${to}` } : { to: stage, reason: `${event.type} does not move a deal in ${stage}: stays` };
}

/** Template variables: the contact's fields, then string values of the event data, then the caller's. */
function templateVariablesFrom(input: DecideNextStepInput): Record<string, string> {
  const variables: Record<string, string> = {};
  if (input.contact.name) variables.name = input.contact.name;
  if (input.contact.company) variables.company = input.contact.company;
  for (const [key, value] of Object.entries(input.event.data ?? {})) if (typeof value === 'string' || typeof value === 'number') variables[key] = String(value);
  return { ...variables, ...input.variables };
}

/**
 * What should happen next for one event on one deal: the intent (for messages), the target
 * stage from the lifecycle table, the actions with their policy class and mode, and the
 * reply. Pure — no database, no clock (`now` is an input), no network — so /os/process,
 * /os/process-and-act and the tests all decide the same way. It only proposes: the gateway
 * enforces policy and approvals when the actions run.
 *
 * @example
 * decideNextStep({ stage: 'new_lead', event: { type: 'inbound_message', text: 'كم السعر؟' }, contact: {}, now })
 * // → { intent: 'price_inquiry', stage: { from: 'new_lead', to: 'qualifying', … }, reply: { language: 'ar', … }, … }
 */
export function decideNextStep(input: DecideNextStepInput): Decision {
  const policySet = input.policySet ?? (POLICY_SETS[DEFAULT_POLICY_VERSION] as PolicySet);
  const { stage: from, event, now } = input;
  const classification =
    event.type === 'inbound_message'
      ? classifyIntent({ text: event.text ?? '', ...(input.classifier ? { classifier: input.classifier } : {}) })
      : null;
  const intent = classification?.intent ?? null;
  const move = moveFor(from, event, intent);
  const to = move.to;
  const fromStage = LIFECYCLE[from];
  const toStage = LIFECYCLE[to];
  const hours = input.businessHours ?? DEFAULT_BUSINESS_HOURS;
  const classOf = (action: string) => classifyAction(action, policySet, undefined).policyClass;

  const actions: DecidedAction[] = [];
  const byPolicy = (action: string, why: string): DecidedAction => {
    const cls = classOf(action);
    if (cls === 'A') return { action, class: cls, mode: 'auto', reason: `class A: ${why}` };
    if (cls === 'C') return { action, class: cls, mode: 'blocked', reason: `class C: forbidden, always (${why})` };
    return { action, class: cls, mode: 'draft', reason: `class B: needs an approval before it runs (${why})` };
  };

  if (classification) actions.push(byPolicy('classify', `inbound message classified as ${classification.intent}`));
  if (to !== from) {
    for (const entry of toStage.entryActions) if (entry.action !== 'send_whatsapp') actions.push(byPolicy(entry.action, `on entering ${to}: ${entry.doc}`));
  }

  // The outbound reply (for messages) or the stage's entry message (for events that enter a stage sending one).
  const wantsOutbound = event.type === 'inbound_message' || (to !== from && toStage.entryActions.some((entry) => entry.action === 'send_whatsapp'));
  let reply: Decision['reply'] = null;
  let autoSendAllowed = false;
  if (wantsOutbound) {
    const sendClass = classOf('send_whatsapp');
    const send = (mode: ActionMode, reason: string, scheduledFor?: string) =>
      actions.push({ action: 'send_whatsapp', class: sendClass, mode, reason, ...(scheduledFor ? { scheduled_for: scheduledFor } : {}) });
    const language = replyLanguage(input.contact, classification);
    if (to === 'opted_out' || from === 'opted_out') {
      send('blocked', 'the contact opted out: nothing is ever sent to them again, queued messages included (PDPL)');
    } else if (!fromStage.outboundAllowed || !toStage.outboundAllowed) {
      send('blocked', `${to} is terminal: the lifecycle sends nothing from it`);
    } else if (sendClass === 'C') {
      send('blocked', 'class C: forbidden, always');
    } else {
      const variables = templateVariablesFrom(input);
      const choice = move.reply ? chooseTemplate(move.reply, language, variables, input.templates) : undefined;
      if (choice?.usable) {
        const used = Object.fromEntries(choice.template.variables.map((name) => [name, variables[name] as string]));
        reply = { text: choice.text, language, template: choice.template.id, template_version: choice.template.version, variables: used };
      }
      const needsHuman = fromStage.outboundNeedsHuman || toStage.outboundNeedsHuman;
      if (needsHuman) {
        send('draft', `${toStage.outboundNeedsHuman ? to : from}: every outbound message needs a human's approval (SPEC §3)`);
      } else if (!move.reply) {
        send('draft', `no reply template for ${intent ?? event.type} in ${from}: a human writes the reply`);
      } else if (!choice?.usable) {
        send('draft', `template ${move.reply} (${language}) is not usable: missing ${choice?.missing.join(', ') || 'a variant in this language'}; a human drafts`);
      } else if (sendClass === 'A') {
        send('auto', 'class A: safe and automatic');
      } else if (!isWithinBusinessHours(now, hours)) {
        autoSendAllowed = true;
        send(
          'scheduled',
          `templated reply outside business hours (${describeBusinessHours(hours)}): scheduled for the next opening, ` +
            'under the standing approval checked when it goes out',
          nextBusinessOpening(now, hours).toISOString(),
        );
      } else {
        autoSendAllowed = true;
        send('auto', `class B, templated reply in ${to} where outbound needs no human: sent under the tenant's standing approval, which the gateway checks at act time`);
      }
    }
  }

  return {
    intent,
    classification,
    stage: { from, to, reason: move.reason },
    actions,
    reply,
    auto_send_allowed: autoSendAllowed,
    human_approval_required: actions.some((action) => action.mode === 'draft'),
    follow_up_at: move.followUpDays === undefined ? null : new Date(now.getTime() + move.followUpDays * DAY_MS).toISOString(),
  };
}
