import type { Intent } from '../intents/intents.ts';
import { DEAL_STAGES, DEAL_STAGE_VALUES, type DealStage } from './deal-stages.ts';

/**
 * The deal lifecycle (SPEC §3, issue 4) as data, extending {@link DEAL_STAGES}: per stage the
 * allowed transitions (taken from DEAL_STAGES, never restated), which intents and events move
 * it, the actions on entry, the reply templates, the qualification questions and whether an
 * outbound message needs a human. `lifecycle.test.ts` proves every move named here is an
 * allowed transition.
 */

/** Languages a reply template is written in. */
export const TEMPLATE_LANGUAGES = ['ar', 'en'] as const;
export type TemplateLanguage = (typeof TEMPLATE_LANGUAGES)[number];

/** What can happen to a deal (issue 4): messages, and events from people or other systems. */
export const LIFECYCLE_EVENTS = {
  /** The contact wrote to us; the text is classified into an intent. */
  inbound_message: 'inbound_message',
  /** The booked meeting took place. */
  meeting_completed: 'meeting_completed',
  /** A proposal went out (sent by a person or another system). */
  proposal_sent: 'proposal_sent',
  /** The payment arrived (confirmed by the payment provider or finance, not by the customer's word). */
  payment_received: 'payment_received',
  /** The paid pilot ended successfully. */
  pilot_completed: 'pilot_completed',
  /** A person moved the deal; `data.to` names the stage, which must be an allowed transition. */
  manual_stage_change: 'manual_stage_change',
} as const;
export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[keyof typeof LIFECYCLE_EVENTS];
export const LIFECYCLE_EVENT_VALUES = Object.values(LIFECYCLE_EVENTS) as [LifecycleEvent, ...LifecycleEvent[]];

/** Purposes a reply template serves; each has one or more variants per language. */
export type ReplyPurpose =
  | 'welcome'
  | 'interested'
  | 'price'
  | 'meeting'
  | 'info'
  | 'not_now'
  | 'follow_up'
  | 'qualify_next'
  | 'ready_to_buy'
  | 'meeting_confirmation';

export interface ReplyTemplate {
  /** Stable id, `<purpose>.<variant>.<language>`. */
  id: string;
  purpose: ReplyPurpose;
  language: TemplateLanguage;
  /** Text with `{{variable}}` placeholders. */
  text: string;
  /** Every variable the text needs; rendering refuses when one is missing. */
  variables: readonly string[];
  /** 0 for the built-in text; 1, 2, … for the tenant's edits (PUT /os/templates/{id}). */
  version: number;
}

/** The variables a template may use, and where each comes from. */
export const TEMPLATE_VARIABLES = {
  /** The contact's name, from the contact record. */
  name: 'name',
  /** The contact's company, from the contact record. */
  company: 'company',
  /** The tenant's entry price (PUT /os/settings `template_variables.price_range`). */
  price_range: 'price_range',
  /** The tenant's booking link (PUT /os/settings `template_variables.meeting_link`). */
  meeting_link: 'meeting_link',
  /** The booked time, from the event's data. */
  meeting_time: 'meeting_time',
} as const;
export type TemplateVariable = keyof typeof TEMPLATE_VARIABLES;

/** What an intent does in a stage. `to` equal to the stage itself means: stay. */
export interface IntentRule {
  to: DealStage;
  /** The reply template purpose; absent means a human writes the reply (a draft). */
  reply?: ReplyPurpose;
  /** not_now: when to follow up, in days (a durable timer at act time). */
  followUpDays?: number;
  /** Why, recorded with the decision (for example closed_lost because of a wrong contact). */
  reason: string;
}

export interface EntryAction {
  /** An action name from SPEC §2; its policy class comes from the policy table. */
  action: string;
  doc: string;
}

export interface QualificationQuestion {
  id: 'budget' | 'decision_maker' | 'need' | 'timeline';
  ar: string;
  en: string;
}

export interface StageDefinition {
  doc: string;
  terminal: boolean;
  /** Allowed transitions: DEAL_STAGES[stage].next. */
  next: readonly DealStage[];
  intents: Partial<Record<Intent, IntentRule>>;
  /** Events other than inbound_message and manual_stage_change, and the stage each moves to. */
  events: Partial<Record<Exclude<LifecycleEvent, 'inbound_message' | 'manual_stage_change'>, DealStage>>;
  entryActions: readonly EntryAction[];
  /** Reply purposes used in this stage (resolved to templates in {@link templatesFor}). */
  replies: readonly ReplyPurpose[];
  /** Asked in this stage (qualifying only). */
  qualificationQuestions: readonly QualificationQuestion[];
  /** SPEC §3: negotiating, payment_requested and pilot_active send nothing without a human. */
  outboundNeedsHuman: boolean;
  /** Terminal stages send nothing at all (opted_out: never again, PDPL). */
  outboundAllowed: boolean;
}

/** Names every variable in a template text, in order of first use. */
export function templateVariables(text: string): string[] {
  return [...new Set([...text.matchAll(/\{\{\s*([a-z_]+)\s*\}\}/g)].map((match) => match[1] as string))];
}

const template = (purpose: ReplyPurpose, variant: string, language: TemplateLanguage, text: string): ReplyTemplate => ({
  id: `${purpose}.${variant}.${language}`,
  purpose,
  language,
  text,
  variables: templateVariables(text),
  version: 0,
});

/**
 * Reply templates, Gulf Arabic and English. Per purpose and language the variants are tried
 * in order and the first whose variables are all known is used: a variant that names the
 * contact comes before one that does not. A variable is never replaced by "".
 */
export const REPLY_TEMPLATES: readonly ReplyTemplate[] = [
  template('welcome', 'named', 'ar', 'هلا {{name}}، حياك الله! وش أكثر شي تحتاجه حالياً في المبيعات؟'),
  template('welcome', 'plain', 'ar', 'هلا والله، حياك الله! وش أكثر شي تحتاجه حالياً في المبيعات؟ نبي نفهم احتياجك عشان نفيدك صح.'),
  template('welcome', 'named', 'en', 'Hi {{name}}, thanks for reaching out! What is the main thing you need help with in sales right now?'),
  template('welcome', 'plain', 'en', 'Hi, thanks for reaching out! What is the main thing you need help with in sales right now?'),
  template('interested', 'named', 'ar', 'هلا {{name}}، يسعدنا اهتمامك! عشان نرسل لك التفاصيل المناسبة: وش أكثر تحدي تواجهونه حالياً؟'),
  template('interested', 'plain', 'ar', 'يسعدنا اهتمامك! عشان نرسل لك التفاصيل المناسبة: وش أكثر تحدي تواجهونه حالياً؟'),
  template('interested', 'named', 'en', 'Great to hear, {{name}}! So we send the right details: what is the biggest challenge you face today?'),
  template('interested', 'plain', 'en', 'Great to hear! So we send the right details: what is the biggest challenge you face today?'),
  template('price', 'range', 'ar', 'هلا {{name}}، أسعارنا تبدأ من {{price_range}} ريال شامل الضريبة، وتختلف حسب حجم الفريق. كم عدد أفراد فريق المبيعات عندكم؟'),
  template('price', 'plain', 'ar', 'هلا والله، الأسعار تختلف حسب حجم الفريق والاحتياج. عشان نعطيك عرض دقيق: كم عدد أفراد فريق المبيعات عندكم، وكم الميزانية التقريبية؟'),
  template('price', 'range', 'en', 'Hi {{name}}, our plans start at SAR {{price_range}} incl. VAT, depending on team size. How many people are on your sales team?'),
  template('price', 'plain', 'en', 'Thanks for asking! Pricing depends on team size and needs. For an accurate quote: how many people are on your sales team, and what budget do you have in mind?'),
  template('meeting', 'link', 'ar', 'أكيد {{name}}، تقدر تختار الوقت المناسب لك من هنا: {{meeting_link}}'),
  template('meeting', 'plain', 'ar', 'أكيد، يسعدنا نرتب لك موعد. وش الوقت المناسب لك هالأسبوع (الأحد إلى الخميس)؟'),
  template('meeting', 'link', 'en', 'Of course, {{name}}! Pick a time that suits you here: {{meeting_link}}'),
  template('meeting', 'plain', 'en', 'Of course! Which time suits you this week (Sunday to Thursday)?'),
  template('info', 'named', 'ar', 'هلا {{name}}، سؤال في محله! بنرد عليك بالتفاصيل قريب. وش الأنظمة اللي تستخدمونها حالياً؟'),
  template('info', 'plain', 'ar', 'سؤال في محله! بنرد عليك بالتفاصيل قريب. وش الأنظمة اللي تستخدمونها حالياً؟'),
  template('info', 'named', 'en', 'Good question, {{name}}! We will come back with the details shortly. Which tools do you use today?'),
  template('info', 'plain', 'en', 'Good question! We will come back with the details shortly. Which tools do you use today?'),
  template('not_now', 'named', 'ar', 'ولا يهمك {{name}}، نتواصل معك بعد فترة إن شاء الله. الله يوفقك!'),
  template('not_now', 'plain', 'ar', 'ولا يهمك، نتواصل معك بعد فترة إن شاء الله. الله يوفقك!'),
  template('not_now', 'named', 'en', 'No problem, {{name}}. We will check back with you later. All the best!'),
  template('not_now', 'plain', 'en', 'No problem. We will check back with you later. All the best!'),
  template('follow_up', 'named', 'ar', 'هلا {{name}}، نتمنى أموركم طيبة! حبينا نتطمن: هل الوقت مناسب الحين نكمل كلامنا؟'),
  template('follow_up', 'plain', 'ar', 'هلا والله، نتمنى أموركم طيبة! هل الوقت مناسب الحين نكمل كلامنا؟'),
  template('follow_up', 'named', 'en', 'Hi {{name}}, hope all is well! Is now a good time to pick up where we left off?'),
  template('follow_up', 'plain', 'en', 'Hi, hope all is well! Is now a good time to pick up where we left off?'),
  template('qualify_next', 'plain', 'ar', 'شكراً لك! سؤال أخير: مين صاحب القرار في الشراء عندكم، ومتى تتوقعون تبدون؟'),
  template('qualify_next', 'plain', 'en', 'Thank you! One more question: who makes the purchase decision, and when would you like to start?'),
  template('ready_to_buy', 'named', 'ar', 'أبشر {{name}}، بنجهز لك التفاصيل ونرسلها لك قريب إن شاء الله.'),
  template('ready_to_buy', 'plain', 'ar', 'أبشر، بنجهز لك التفاصيل ونرسلها لك قريب إن شاء الله.'),
  template('ready_to_buy', 'named', 'en', 'Great, {{name}}! We are preparing the details and will send them shortly.'),
  template('ready_to_buy', 'plain', 'en', 'Great! We are preparing the details and will send them shortly.'),
  template('meeting_confirmation', 'link', 'ar', 'تم تأكيد الموعد {{name}}: {{meeting_time}}. رابط الاجتماع: {{meeting_link}}'),
  template('meeting_confirmation', 'link', 'en', 'Your meeting is confirmed, {{name}}: {{meeting_time}}. Meeting link: {{meeting_link}}'),
];

/** Asked in qualifying (issue 4): qualifying → qualified when the required answers are in. */
export const QUALIFICATION_QUESTIONS: readonly QualificationQuestion[] = [
  { id: 'need', ar: 'وش أكثر شي تحتاجونه أو أكبر تحدي تواجهونه في المبيعات حالياً؟', en: 'What do you need most, or what is your biggest sales challenge today?' },
  { id: 'budget', ar: 'كم الميزانية التقريبية اللي حاطينها لهالشي؟', en: 'What budget do you have in mind for this?' },
  { id: 'decision_maker', ar: 'مين صاحب القرار في الشراء عندكم؟', en: 'Who makes the purchase decision on your side?' },
  { id: 'timeline', ar: 'متى تتوقعون تبدون؟', en: 'When would you like to start?' },
];

/** Follow-up timer after "not now", in days (issue 4: not_now → nurturing with a follow-up timer). */
export const NOT_NOW_FOLLOW_UP_DAYS = 30;

const OPT_OUT: IntentRule = { to: 'opted_out', reason: 'the contact asked to stop (PDPL Art. 25): nothing is ever sent again' };
const WRONG_CONTACT: IntentRule = { to: 'closed_lost', reason: 'wrong_contact: wrong number or no longer the right person' };
const NOT_INTERESTED: IntentRule = { to: 'closed_lost', reason: 'not_interested: the contact said no' };
const NOT_NOW: IntentRule = { to: 'nurturing', reply: 'not_now', followUpDays: NOT_NOW_FOLLOW_UP_DAYS, reason: 'not_now: kept warm, follow up later' };

/** The rules every open stage shares; a stage's own rules override them. */
function openStageIntents(stage: DealStage, own: Partial<Record<Intent, IntentRule>>): Partial<Record<Intent, IntentRule>> {
  const stay = (reason: string, reply?: ReplyPurpose): IntentRule => (reply ? { to: stage, reply, reason } : { to: stage, reason });
  return {
    greeting: stay('a greeting: nothing changes'),
    interested: stay('interested: a human follows up'),
    price_inquiry: stay('asks about the price here: a human answers'),
    info_request: stay('asks a question here: a human answers'),
    meeting_request: stay('asks for a meeting here: a human arranges it'),
    not_now: stay('not now here: a human decides'),
    objection: stay('an objection: a human answers it'),
    unknown: stay('the classifier is not sure: a human reads the message'),
    negotiation: stay('haggling outside negotiation: a human answers'),
    ready_to_buy: stay('wants to buy, but payment cannot be requested from this stage: a human takes it'),
    payment_confirmation: stay('says they paid, but no payment was requested: a human checks'),
    not_interested: NOT_INTERESTED,
    wrong_contact: WRONG_CONTACT,
    opt_out: OPT_OUT,
    ...own,
  };
}

const entry = (action: string, doc: string): EntryAction => ({ action, doc });
const noEvents = {};

const STAGES_WITHOUT_NEXT: Record<DealStage, Omit<StageDefinition, 'next' | 'terminal'>> = {
  new_lead: {
    doc: 'A lead that has not been spoken to yet; the first reply opens qualification.',
    intents: openStageIntents('new_lead', {
      greeting: { to: 'qualifying', reply: 'welcome', reason: 'the conversation started: qualify' },
      interested: { to: 'qualifying', reply: 'interested', reason: 'interested: qualify' },
      price_inquiry: { to: 'qualifying', reply: 'price', reason: 'asked for prices: answer with the price reply and qualify' },
      info_request: { to: 'qualifying', reply: 'info', reason: 'asked about the product: answer and qualify' },
      meeting_request: { to: 'meeting_booked', reply: 'meeting', reason: 'asked for a meeting' },
      not_now: NOT_NOW,
    }),
    events: noEvents,
    entryActions: [entry('research', 'look the company up before the first reply'), entry('classify', 'classify every inbound message')],
    replies: ['welcome', 'interested', 'price', 'info', 'meeting', 'not_now'],
    qualificationQuestions: [],
    outboundNeedsHuman: false,
    outboundAllowed: true,
  },
  qualifying: {
    doc: 'Questions being asked: need, budget, decision maker, timeline.',
    intents: openStageIntents('qualifying', {
      interested: { to: 'qualifying', reply: 'qualify_next', reason: 'keeps answering: ask the next question' },
      price_inquiry: { to: 'qualifying', reply: 'price', reason: 'asked for prices: answer and keep qualifying' },
      info_request: { to: 'qualifying', reply: 'info', reason: 'asked about the product: answer and keep qualifying' },
      meeting_request: { to: 'qualifying', reply: 'meeting', reason: 'asked for a meeting: offer times (booked once qualified)' },
      ready_to_buy: { to: 'qualified', reply: 'ready_to_buy', reason: 'ready to buy: qualified' },
      not_now: NOT_NOW,
    }),
    events: noEvents,
    entryActions: [entry('send_whatsapp', 'ask the qualification questions'), entry('tag', 'tag the deal as in qualification')],
    replies: ['price', 'info', 'meeting', 'qualify_next', 'ready_to_buy', 'not_now'],
    qualificationQuestions: QUALIFICATION_QUESTIONS,
    outboundNeedsHuman: false,
    outboundAllowed: true,
  },
  qualified: {
    doc: 'The required qualification answers are in.',
    intents: openStageIntents('qualified', {
      interested: { to: 'qualified', reply: 'meeting', reason: 'interested: offer a meeting' },
      price_inquiry: { to: 'qualified', reply: 'price', reason: 'asked for prices' },
      info_request: { to: 'qualified', reply: 'info', reason: 'asked about the product' },
      meeting_request: { to: 'meeting_booked', reply: 'meeting', reason: 'asked for a meeting' },
      ready_to_buy: { to: 'qualified', reply: 'ready_to_buy', reason: 'ready to buy: a human sends the proposal' },
      not_now: NOT_NOW,
    }),
    events: { proposal_sent: 'proposal_sent' },
    entryActions: [entry('sync_salesforce', 'push the qualified lead to the CRM'), entry('internal_status_update', 'tell the owner the lead is qualified')],
    replies: ['meeting', 'price', 'info', 'ready_to_buy', 'not_now'],
    qualificationQuestions: [],
    outboundNeedsHuman: false,
    outboundAllowed: true,
  },
  nurturing: {
    doc: 'Not now: kept warm with follow-ups on a timer.',
    intents: openStageIntents('nurturing', {
      greeting: { to: 'nurturing', reply: 'follow_up', reason: 'came back with a greeting: ask if now is a good time' },
      interested: { to: 'qualifying', reply: 'interested', reason: 'interested again: qualify' },
      price_inquiry: { to: 'qualifying', reply: 'price', reason: 'asked for prices: answer and qualify' },
      info_request: { to: 'nurturing', reply: 'info', reason: 'asked about the product' },
      meeting_request: { to: 'meeting_booked', reply: 'meeting', reason: 'asked for a meeting' },
      ready_to_buy: { to: 'qualified', reply: 'ready_to_buy', reason: 'ready to buy: qualified' },
      not_now: { ...NOT_NOW, reason: 'still not now: the follow-up timer restarts' },
    }),
    events: noEvents,
    entryActions: [entry('plan', `schedule the follow-up (default ${NOT_NOW_FOLLOW_UP_DAYS} days)`)],
    replies: ['follow_up', 'interested', 'price', 'info', 'meeting', 'ready_to_buy', 'not_now'],
    qualificationQuestions: [],
    outboundNeedsHuman: false,
    outboundAllowed: true,
  },
  meeting_booked: {
    doc: 'A meeting is on the calendar.',
    intents: openStageIntents('meeting_booked', {
      meeting_request: { to: 'meeting_booked', reply: 'meeting', reason: 'asks about the meeting or to reschedule' },
      info_request: { to: 'meeting_booked', reply: 'info', reason: 'asked about the product' },
      not_now: NOT_NOW,
    }),
    events: { meeting_completed: 'meeting_done' },
    entryActions: [entry('book_meeting', 'put the meeting on the calendar'), entry('send_whatsapp', 'confirm the time and link')],
    replies: ['meeting', 'info', 'meeting_confirmation', 'not_now'],
    qualificationQuestions: [],
    outboundNeedsHuman: false,
    outboundAllowed: true,
  },
  meeting_done: {
    doc: 'The meeting happened; a proposal is next.',
    intents: openStageIntents('meeting_done', {
      meeting_request: { to: 'meeting_booked', reply: 'meeting', reason: 'asked for another meeting' },
      info_request: { to: 'meeting_done', reply: 'info', reason: 'asked about the product' },
      ready_to_buy: { to: 'meeting_done', reply: 'ready_to_buy', reason: 'ready to buy: a human sends the proposal' },
      not_now: NOT_NOW,
    }),
    events: { proposal_sent: 'proposal_sent' },
    entryActions: [entry('summarize', 'summarise the meeting notes'), entry('sync_salesforce', 'record the meeting in the CRM')],
    replies: ['meeting', 'info', 'ready_to_buy', 'not_now'],
    qualificationQuestions: [],
    outboundNeedsHuman: false,
    outboundAllowed: true,
  },
  proposal_sent: {
    doc: 'A proposal went out.',
    intents: openStageIntents('proposal_sent', {
      negotiation: { to: 'negotiating', reason: 'haggles over the proposal: negotiating (a human answers)' },
      objection: { to: 'negotiating', reason: 'objects to the proposal: negotiating (a human answers)' },
      ready_to_buy: { to: 'payment_requested', reason: 'accepts: request the payment' },
      info_request: { to: 'proposal_sent', reply: 'info', reason: 'asked about the proposal' },
      not_now: NOT_NOW,
    }),
    events: noEvents,
    entryActions: [entry('sync_salesforce', 'record the proposal in the CRM'), entry('plan', 'plan a follow-up if there is no answer')],
    replies: ['info', 'not_now'],
    qualificationQuestions: [],
    outboundNeedsHuman: false,
    outboundAllowed: true,
  },
  negotiating: {
    doc: 'Terms are being discussed; every outbound message needs a human.',
    intents: openStageIntents('negotiating', {
      negotiation: { to: 'negotiating', reason: 'keeps negotiating: a human answers' },
      ready_to_buy: { to: 'payment_requested', reason: 'agrees: request the payment' },
      not_now: { to: 'negotiating', reason: 'not now during negotiation: a human decides' },
    }),
    events: { proposal_sent: 'proposal_sent' },
    entryActions: [entry('generate_draft', 'draft replies for the owner to approve')],
    replies: [],
    qualificationQuestions: [],
    outboundNeedsHuman: true,
    outboundAllowed: true,
  },
  payment_requested: {
    doc: 'An invoice or payment link went out; every outbound message needs a human.',
    intents: openStageIntents('payment_requested', {
      payment_confirmation: {
        to: 'pilot_active',
        reason: 'says they paid: the pilot starts (payment_received confirms; pilots precede closed_won, SPEC §3)',
      },
      negotiation: { to: 'negotiating', reason: 're-opens the terms' },
      ready_to_buy: { to: 'payment_requested', reason: 'asks how to pay: a human resends the payment link' },
      not_now: { to: 'payment_requested', reason: 'not now after the invoice: a human decides' },
    }),
    events: { payment_received: 'pilot_active' },
    entryActions: [entry('create_charge', 'create the invoice or payment link (SAR, VAT 15 %)')],
    replies: [],
    qualificationQuestions: [],
    outboundNeedsHuman: true,
    outboundAllowed: true,
  },
  pilot_active: {
    doc: 'A paid pilot is running; every outbound message needs a human.',
    intents: openStageIntents('pilot_active', {
      negotiation: { to: 'negotiating', reason: 'wants to change terms during the pilot' },
      ready_to_buy: { to: 'closed_won', reason: 'commits after the pilot: won' },
      not_now: { to: 'pilot_active', reason: 'not now during the pilot: a human decides' },
    }),
    events: { pilot_completed: 'closed_won' },
    entryActions: [entry('internal_status_update', 'start the pilot with the delivery team'), entry('sync_salesforce', 'record the pilot in the CRM')],
    replies: [],
    qualificationQuestions: [],
    outboundNeedsHuman: true,
    outboundAllowed: true,
  },
  closed_won: {
    doc: 'Won. Terminal: no outbound from the lifecycle.',
    intents: {},
    events: noEvents,
    entryActions: [entry('generate_evidence_pack', 'the evidence pack (SPEC §3: closed_won triggers it)'), entry('sync_salesforce', 'mark the deal won in the CRM')],
    replies: [],
    qualificationQuestions: [],
    outboundNeedsHuman: false,
    outboundAllowed: false,
  },
  closed_lost: {
    doc: 'Lost. Terminal; a new deal may be opened for the same contact.',
    intents: {},
    events: noEvents,
    entryActions: [entry('sync_salesforce', 'mark the deal lost in the CRM, with the reason'), entry('tag', 'tag the loss reason')],
    replies: [],
    qualificationQuestions: [],
    outboundNeedsHuman: false,
    outboundAllowed: false,
  },
  opted_out: {
    doc: 'The contact asked to stop (PDPL). Terminal; nothing is ever sent again, queued messages included.',
    intents: {},
    events: noEvents,
    entryActions: [entry('internal_status_update', 'cancel every queued or scheduled outbound message for the contact')],
    replies: [],
    qualificationQuestions: [],
    outboundNeedsHuman: false,
    outboundAllowed: false,
  },
};

/** The lifecycle, one entry per stage, in DEAL_STAGE_VALUES order. */
export const LIFECYCLE: Readonly<Record<DealStage, StageDefinition>> = Object.fromEntries(
  DEAL_STAGE_VALUES.map((stage) => [
    stage,
    { ...STAGES_WITHOUT_NEXT[stage], terminal: DEAL_STAGES[stage].terminal, next: DEAL_STAGES[stage].next as readonly DealStage[] },
  ]),
) as Record<DealStage, StageDefinition>;

/** Every template of the given purposes, in catalogue order. */
export function templatesFor(purposes: readonly ReplyPurpose[], catalogue: readonly ReplyTemplate[] = REPLY_TEMPLATES): ReplyTemplate[] {
  return catalogue.filter((candidate) => purposes.includes(candidate.purpose));
}

/** Thrown when a template needs a variable nobody supplied: such a template is not usable (a human drafts instead). */
export class MissingTemplateVariableError extends Error {
  override readonly name = 'MissingTemplateVariableError';
  readonly templateId: string;
  readonly missing: readonly string[];
  constructor(templateId: string, missing: readonly string[]) {
    super(`Template ${templateId} needs ${missing.join(', ')}`);
    this.templateId = templateId;
    this.missing = missing;
  }
}

/** The variables a template needs that are missing or blank in `variables`. */
export function missingVariables(replyTemplate: ReplyTemplate, variables: Readonly<Record<string, string | undefined>>): string[] {
  return replyTemplate.variables.filter((name) => !variables[name]?.trim());
}

/**
 * Substitutes every `{{variable}}`. A missing or blank variable throws: a reply is never sent
 * with a hole in it, and no variable defaults to "".
 *
 * @example
 * renderTemplate(template, { name: 'عبدالله' }) // 'هلا عبدالله، …'
 */
export function renderTemplate(replyTemplate: ReplyTemplate, variables: Readonly<Record<string, string | undefined>>): string {
  const missing = missingVariables(replyTemplate, variables);
  if (missing.length > 0) throw new MissingTemplateVariableError(replyTemplate.id, missing);
  return replyTemplate.text.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_whole, name: string) => (variables[name] as string).trim());
}

export type TemplateChoice =
  | { usable: true; template: ReplyTemplate; text: string }
  | { usable: false; tried: readonly string[]; missing: readonly string[] };

/**
 * The first variant of a purpose in a language whose variables are all known, rendered; or
 * why none was usable (the missing variables of the least demanding variant).
 */
export function chooseTemplate(
  purpose: ReplyPurpose,
  language: TemplateLanguage,
  variables: Readonly<Record<string, string | undefined>>,
  catalogue: readonly ReplyTemplate[] = REPLY_TEMPLATES,
): TemplateChoice {
  const variants = catalogue.filter((candidate) => candidate.purpose === purpose && candidate.language === language);
  let fewestMissing: string[] | undefined;
  for (const variant of variants) {
    const missing = missingVariables(variant, variables);
    if (missing.length === 0) return { usable: true, template: variant, text: renderTemplate(variant, variables) };
    if (!fewestMissing || missing.length < fewestMissing.length) fewestMissing = missing;
  }
  return { usable: false, tried: variants.map((variant) => variant.id), missing: fewestMissing ?? [] };
}
