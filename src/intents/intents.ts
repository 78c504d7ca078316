/**
 * What an inbound message means for the deal (SPEC §3), as data. The lifecycle maps these
 * to stage moves; `unknown` is also what the classifier answers when it is not sure, so
 * that a human reads the message.
 */
export const INTENTS = {
  /** Only a greeting or pleasantry: "هلا والله", "salam 3alaikom", "good morning". */
  greeting: 'greeting',
  /** A positive reaction that wants to hear more: "مهتم، ارسل التفاصيل", "sounds good". */
  interested: 'interested',
  /** Asks what it costs: "كم السعر؟", "abgha as3ar", "can you send a quote". */
  price_inquiry: 'price_inquiry',
  /** Asks for or agrees to a meeting, call, visit or demo: "ابغى ديمو", "call me at 3". */
  meeting_request: 'meeting_request',
  /** A specific question about the product or the company: "يتكامل مع سلة؟". */
  info_request: 'info_request',
  /** A reason not to buy, without asking for better terms: "غالي", "we already use HubSpot". */
  objection: 'objection',
  /** Interested perhaps, but later: "بعد العيد", "ping me next quarter". */
  not_now: 'not_now',
  /** A plain no, without asking to stop messages: "مو مهتم", "no thanks". */
  not_interested: 'not_interested',
  /** Haggles over price or terms: "ممكن خصم؟", "can we pay in installments". */
  negotiation: 'negotiation',
  /** Wants to buy or sign now: "ارسل العقد", "send the invoice", "وين ادفع؟". */
  ready_to_buy: 'ready_to_buy',
  /** Says the money was sent: "حولت المبلغ", "payment done", "7awalt". */
  payment_confirmation: 'payment_confirmation',
  /** Asks to stop receiving messages (PDPL Art. 25): "وقف", "unsubscribe", "شيلوا رقمي". */
  opt_out: 'opt_out',
  /** Wrong number, wrong person, or no longer the right contact: "رقم غلط", "I left the company". */
  wrong_contact: 'wrong_contact',
  /** None of the above, or the classifier is not confident enough: a human looks. */
  unknown: 'unknown',
} as const;

export type Intent = (typeof INTENTS)[keyof typeof INTENTS];
export const INTENT_VALUES = Object.values(INTENTS) as [Intent, ...Intent[]];

/** The writing a message is in: Arabic script, English, Arabic in Latin letters, or a mix. */
export const LANGUAGES = {
  /** Arabic script (Gulf dialect or MSA). */
  ar: 'ar',
  /** English. */
  en: 'en',
  /** Arabic written in Latin letters and digits ("abgha as3ar", "7ayak"). */
  arabizi: 'arabizi',
  /** Arabic script and Latin words together, or Arabizi and English together. */
  mixed: 'mixed',
} as const;

export type Language = (typeof LANGUAGES)[keyof typeof LANGUAGES];
export const LANGUAGE_VALUES = Object.values(LANGUAGES) as [Language, ...Language[]];

/** What the classifier answers for one message. */
export interface IntentClassification {
  intent: Intent;
  /** 0..1: a rule's fixed confidence, or the model's probability for the intent. */
  confidence: number;
  language: Language;
  /** Why: the rule that matched, or the model's top candidates; for `unknown`, what it would have been. */
  reason: string;
}
