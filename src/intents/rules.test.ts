import { describe, expect, it } from 'vitest';
import { classifyIntent } from './classify-intent.ts';
import { normalizeText } from './normalize.ts';
import { matchRule, stopInAnotherSense } from './rules.ts';

const rule = (text: string) => matchRule(normalizeText(text))?.intent;

/** Every plain way of saying stop that we know of, in each script; the rules must catch each one. */
const OPT_OUTS = [
  // English
  'stop', 'STOP', 'Stop.', 'stop please', 'pls stop', 'STOP!!! 🛑', 'stop stop stop', 'unsubscribe', 'Unsubscribe me', 'UNSUB',
  'opt out', 'opt me out', 'stop sending', 'stop sending me messages', 'stop messaging me', 'quit texting me', 'remove my number',
  'please remove my number from your database', 'delete my number', 'take me off your list', "don't message me again",
  'do not contact me', 'dont text me anymore', 'no more messages please', 'leave me alone', 'this is spam',
  "I don't want to receive these messages", 'I asked you to stop', 'cancel my subscription to these messages',
  // Arabic (Gulf and MSA)
  'وقف', 'وقفوا', 'وقّف', 'وقفففف', 'لا تراسلوني', 'لا تراسلني مره ثانيه', 'لا ترسل', 'لا ترسلون لي شي', 'لا ترسلوا لي أي عروض',
  'شيلوا رقمي', 'شيل رقمي من عندكم', 'امسحوا رقمي', 'احذفوا رقمي من القائمة', 'شطبوا رقمي', 'طلعوني من القايمة', 'الغاء الاشتراك',
  'إلغاء الاشتراك', 'ابي الغي الاشتراك', 'بطلوا ترسلون', 'بطل ترسل لي', 'وقفوا الرسائل', 'ايقاف الرسائل', 'أرجو عدم مراسلتي',
  'ما ابي رسايل منكم', 'كفاية رسائل', 'لا تزعجوني', 'لا عاد ترسلون', 'ما عاد ترسلون لي', 'توقفوا عن مراسلتي', 'بلوك',
  'بسوي لكم بلوك اذا ما وقفتوا', 'يرجى حذف رقمي من قائمتكم',
  // Arabizi and mixed
  'wagif', 'wagef', 'wagfooo', 'la trasloni', 'la tarasluni', 'shilo ra8mi', 'sheelo rgmi', 'batlo tirsloon', 'ma abi rasayel',
  'wagfo el rasayel', 'la tirsil', 'la tirsloon li shay', "el3'a2 el eshtirak", 'stop ارسال', 'وقف pls', 'لا تراسلوني please',
  'unsubscribe لو سمحت', 'remove رقمي', 'please شيلوا رقمي',
];

/** "Stop" (and its Arabic cousins) in another sense: never an opt-out, by rule or by the model. */
const NOT_OPT_OUTS = [
  'the bus stop near your office?', 'is your office near the bus stop?', 'non-stop service?', "don't stop the offer",
  'please don\'t stop the discount, we\'ll sign this week', 'could you stop by our office tomorrow?', 'one-stop shop',
  'when does the offer stop?', 'our system stopped working', 'stop loss', 'can we opt out of the annual contract?',
  'we unsubscribed from Salesforce last month', "don't send the contract yet, we need legal review first",
  'we don\'t want more messages to customers going unanswered, can your tool help?',
  'وقفت السيارة', 'وقفت السيارة قدام مكتبكم، تقدر تنزل نتقابل؟', 'لا توقف العرض، بس نبي خصم زياده', 'لا ترسل العرض الحين، بعد العيد',
  'الغاء الاشتراك مع المورد الحالي ياخذ شهر، بعدها نبدأ معكم', 'بطلنا نستخدم الاكسل، نبي نظام', 'وقفنا التعامل مع المورد القديم',
  'لا تشيل هم، بنرد عليك بكره', 'احذف رقمي القديم وسجل هذا 0551234567', 'الموقف حقكم زحمة، فيه مواقف قريبة؟',
];

describe('opt-out rules (PDPL Art. 25)', () => {
  it.each(OPT_OUTS)('catches %j', (text) => {
    expect(rule(text)).toBe('opt_out');
    expect(classifyIntent({ text })).toMatchObject({ intent: 'opt_out', confidence: 0.99 });
  });

  it.each(NOT_OPT_OUTS)('does not take %j for an opt-out', (text) => {
    expect(rule(text)).not.toBe('opt_out');
    expect(classifyIntent({ text }).intent).not.toBe('opt_out');
  });

  it('wins over every other intent in the same message', () => {
    expect(rule('paid the invoice, now stop sending me messages')).toBe('opt_out');
    expect(rule('رقم غلط، شيلوا رقمي')).toBe('opt_out');
    expect(rule('هلا، لا تراسلوني')).toBe('opt_out');
  });

  it('says why a model-only opt_out was set aside', () => {
    expect(stopInAnotherSense(normalizeText('the bus stop near your office?'))).toMatch(/bus stop/);
    expect(stopInAnotherSense(normalizeText("don't stop the offer"))).toMatch(/dont stop/);
    expect(stopInAnotherSense(normalizeText('stop'))).toBeUndefined();
    expect(classifyIntent({ text: "don't stop the offer" }).reason).toMatch(/opt_out .* set aside/);
  });
});

describe('payment confirmation rule', () => {
  it.each(['حولت المبلغ', 'تم التحويل', 'تمّ تحويل المبلغ إلى حسابكم', 'دفعت', 'سددنا الفاتورة', 'payment done', "I've transferred the amount", 'here is the receipt', '7awalt', 'tm el ta7weel'])(
    'catches %j',
    (text) => expect(rule(text)).toBe('payment_confirmation'),
  );

  it.each(['ما حولت للحين', 'لسا ما دفعنا', 'not paid yet', 'how do I pay?', 'وين احول؟', 'ابي احول، عطني رقم الحساب', 'لو دفعنا سنتين مقدم كم الخصم؟', 'حولت ايميلك للمدير', 'حولني على المدير'])(
    'leaves %j alone',
    (text) => expect(rule(text)).not.toBe('payment_confirmation'),
  );
});

describe('wrong contact and greeting rules', () => {
  it.each(['رقم غلط', 'الرقم غلط', 'غلطان بالرقم', 'wrong number', 'I left the company last year', 'ma a3rf a7ad bhal esm', 'ما عاد اشتغل عندهم'])(
    'catches %j as wrong_contact',
    (text) => expect(rule(text)).toBe('wrong_contact'),
  );

  it.each(['السلام عليكم', 'هلااااا والله', 'هلا أبو فهد', 'good morning', 'hi there 👋', 'salam 3alaikom'])('catches %j as a bare greeting', (text) =>
    expect(rule(text)).toBe('greeting'),
  );

  it.each(['هلا، كم السعر؟', 'hi, can we book a demo?', 'طيب', 'خير؟', 'بكم؟'])('leaves %j to the model', (text) => expect(rule(text)).toBeUndefined());
});
