import type { Intent } from './intents.ts';
import { tokenize } from './normalize.ts';

/**
 * High-precision rules, read before the statistical model. They exist for the intents where a
 * mistake is expensive (opt-out is a legal obligation under PDPL Art. 25; a payment
 * confirmation moves money-related stages) or where the message is formulaic (a wrong number,
 * a bare greeting). A rule fires only on wording that cannot mean anything else; everything
 * else is left to the model.
 *
 * All patterns read normalised text (see normalize.ts): lowercase, no diacritics, ة → ه,
 * ى → ي, أ/إ/آ → ا, ئ → ي, single spaces, "?" as its own token.
 */
export interface IntentRule {
  /** Stable name, quoted in the classification's reason. */
  name: string;
  intent: Intent;
  confidence: number;
  description: string;
  matches(text: string, tokens: readonly string[]): boolean;
}

/** Lists of words as a regex alternation. */
const alt = (...words: readonly string[]) => `(?:${words.join('|')})`;

/**
 * A pattern that starts and ends at word boundaries (JS `\b` does not know Arabic letters),
 * with its anchors: words one of which must be a token of the message for the pattern to
 * match at all. Checking the anchors first keeps the rules cheap (most messages contain none),
 * which matters at tens of thousands of messages a second.
 */
interface Phrase {
  regex: RegExp;
  anchors: ReadonlySet<string>;
}

/** `anchors` lists the alternatives of one slot the pattern cannot match without (first words of phrases are enough). */
const phrase = (source: string, anchors: readonly string[]): Phrase => ({
  regex: new RegExp(`(?:^| )${source}(?= |$)`, 'gu'),
  anchors: new Set(anchors.map((word) => word.split(' ')[0] as string)),
});

const mayOccur = (pattern: Phrase, tokens: readonly string[]) => tokens.some((token) => pattern.anchors.has(token));

/** The matches of `pattern` in `text` that no negation word directly precedes. */
function unnegatedMatches(text: string, tokens: readonly string[], pattern: Phrase, negations: ReadonlySet<string>): RegExpExecArray[] {
  if (!mayOccur(pattern, tokens)) return [];
  const found: RegExpExecArray[] = [];
  for (const match of text.matchAll(pattern.regex)) {
    const before = tokenize(text.slice(0, match.index).trim());
    const previous = before.at(-1) ?? '';
    const previousTwo = before.slice(-2).join(' ');
    if (!negations.has(previous) && !negations.has(previousTwo)) found.push(match);
  }
  return found;
}

function hasUnnegated(text: string, tokens: readonly string[], pattern: Phrase, negations: ReadonlySet<string> = NEGATIONS): boolean {
  return unnegatedMatches(text, tokens, pattern, negations).length > 0;
}

/**
 * True when `pattern` occurs unnegated with only `prefixWords` before it and only
 * `tailWords` after it: "لا ترسلون لي شي" is a stop request, "لا ترسل العرض الحين" is not.
 */
function fillsMessage(text: string, tokens: readonly string[], pattern: Phrase, prefixWords: ReadonlySet<string>, tailWords: ReadonlySet<string>): boolean {
  for (const match of unnegatedMatches(text, tokens, pattern, EMPTY)) {
    const prefix = tokenize(text.slice(0, match.index).trim());
    const tail = tokenize(text.slice(match.index + match[0].length).trim());
    if (prefix.every((word) => prefixWords.has(word)) && tail.every((word) => tailWords.has(word))) return true;
  }
  return false;
}

const EMPTY: ReadonlySet<string> = new Set();

const NEGATIONS: ReadonlySet<string> = new Set([
  'dont', 'do not', 'never', 'wont', 'will not', 'didnt', 'did not', 'cant', 'cannot', 'not', 'doesnt', 'havent', 'hasnt',
  'لا', 'ما', 'لم', 'لن', 'مو', 'ماراح', 'لسا ما', 'للحين ما', 'بعد ما', 'la', 'mo', 'mu', 'lissa ma',
]);

// ---------------------------------------------------------------------------------------------
// Opt-out

/** Politeness and emphasis around a stop request, which do not change what it asks. */
const STOP_FILLERS: ReadonlySet<string> = new Set([
  'please', 'pls', 'plz', 'plse', 'plez', 'now', 'thanks', 'thank', 'you', 'thx', 'ty', 'ok', 'okay', 'just', 'it', 'this',
  'that', 'these', 'bro', 'man', 'sir', 'guys', 'seriously', 'enough', 'already', 'right', 'immediately', 'asap', 'all',
  'khalas', '5alas', 'khlas', '5las', 'bas', 'ya', 'akhi', 'akhoy', 'akhooy', 'lw', 'law', 'sama7t', 'samaht', 'smaht', 'habibi',
  '?', '🛑', '⛔', '🚫', '❌', '👋',
  'لو', 'سمحت', 'سمحتوا', 'سمحتو', 'بليز', 'خلاص', 'بس', 'يا', 'اخي', 'اخوي', 'رجاء', 'رجاءا', 'ارجو', 'الله', 'يخليك',
  'يخليكم', 'ترا', 'ترى', 'هذا', 'هذي', 'تكفي', 'تكفون', 'الحين', 'حالا', 'فورا', 'ازعاج', 'مزعج', 'مزعجين', 'يرجي', 'وخلاص',
  'بسوي', 'kindly',
]);

/** Words that are, alone or with fillers only, a request to stop. */
const STOP_WORDS: ReadonlySet<string> = new Set([
  'stop', 'unsubscribe', 'unsub', 'optout', 'block', '🛑', '⛔', '🚫',
  'وقف', 'وقفوا', 'وقفو', 'اوقف', 'اوقفوا', 'اوقفو', 'توقف', 'توقفوا', 'توقفو', 'ايقاف', 'بلوك',
  'wagif', 'wagef', 'wgf', 'wagfo', 'wagfu', 'wa8if', 'wa8ef', 'wa8fo', 'wa8fu', 'waqif', 'wgfo',
]);

/** What is being stopped: the messages themselves. */
const MESSAGE_NOUNS = [
  'الرسايل', 'رسايل', 'الرساله', 'رساله', 'الارسال', 'ارسال', 'المراسله', 'مراسله', 'الازعاج', 'ازعاج', 'الاعلانات',
  'اعلانات', 'العروض', 'هالعروض', 'مراسلتي', 'مراسلتنا', 'ازعاجي', 'الاتصالات', 'اتصالات', 'المكالمات', 'مكالمات', 'هالرسايل', 'السبام', 'سبام',
  'messages', 'message', 'msgs', 'msg', 'texts', 'text', 'sms', 'spam', 'whatsapps', 'whatsapp', 'ads', 'marketing',
  'promotions', 'promos', 'notifications', '3orood', 'rasayel', 'rasa2el', 'rsayel', 'rasael', 'ersal', 'ersaal', 'irsal',
];
const MESSAGE = alt(...MESSAGE_NOUNS);

/** "Send/message/contact (me)" verbs that "لا" / "don't" turns into a stop request. */
const DONT_VERBS_AR = [
  'ترسل', 'ترسلون', 'ترسلوا', 'ترسلو', 'ترسلين', 'ترسلي', 'تراسل', 'تراسلون', 'تراسلوا', 'تراسلوني', 'تراسلني', 'تراسلونا',
  'تراسلنا', 'تزعجوني', 'تزعجون', 'تزعجني', 'تزعجونا', 'تتصلون', 'تتصل', 'تتصلوا', 'تكلموني', 'تكلمني', 'تكلمونا',
  'تتواصلون', 'تتواصل', 'تتواصلوا', 'تدزون', 'تدز',
];
const DONT_VERBS_ARABIZI = [
  'trasloni', 'trasluni', 'tarasloni', 'tarasluni', 'trasilni', 'tarasilni', 'tirsil', 'tirsel', 'tersel', 'trsl', 'tirsloon',
  'tersloon', 'trsloon', 'tarsloon', 'tirsiloon', 'tirslon', 'tkallemoni', 'tkalmoni', 'tkallimoni', 'tkalmooni', 'ttwasloon',
  'tetwasloon', 'tez3joni', 'tiz3ijooni', 'tz3jooni',
];
/** What may follow "لا تراسلوني" and keep it a stop request: to me, again, ever, on this number. */
const DONT_TAIL: ReadonlySet<string> = new Set([
  ...STOP_FILLERS, ...MESSAGE_NOUNS,
  'لي', 'لنا', 'شي', 'اي', 'ابدا', 'ابد', 'مره', 'ثانيه', 'ثاني', 'تاني', 'اخري', 'بعد', 'اليوم', 'نهاييا', 'على', 'علي',
  'هالرقم', 'الرقم', 'رقمي', 'معي', 'معنا', 'عروض', 'عاد', 'me', 'us', 'again', 'anymore', 'any', 'more', 'ever', 'on',
  'number', 'here', 'anything', 'stuff', 'offers', 'li', 'lee', 'ly', 'shay', 'shi', 'abadan', 'marra', 'thanya', 'm3ai',
  'm3ay', 'ma3ai', 'ma3i', '3ala', '3al', 'hal', 'ra8am', 'mnkom', 'minkom', 'الواتس', 'الواتساب', 'واتس', 'واتساب', 'whatsapp', 'wats',
]);
/** A greeting before the request does not change it: "السلام عليكم، لا تراسلوني". */
const GREETING_PREFIX = [
  'السلام', 'سلام', 'عليكم', 'وعليكم', 'هلا', 'اهلا', 'مرحبا', 'صباح', 'مساء', 'الخير', 'النور', 'hi', 'hello', 'hey', 'salam', 'hala',
  'marhaba', '3alaikom', 'alaikom', 'good', 'morning', 'evening',
];
const DONT_PREFIX: ReadonlySet<string> = new Set([...STOP_FILLERS, ...GREETING_PREFIX, 'الرجاء', 'عاد', 'انا', 'احنا', 'ana', 'e7na', 'رجاءا']);
const DONT_WANT_TAIL: ReadonlySet<string> = new Set([
  ...DONT_TAIL, 'منكم', 'عندكم', 'من', 'تسويقيه', 'التسويقيه', 'دعائيه', 'اعلانيه', 'from', 'you', 'your', 'company', 'promotional',
  'marketing', 'taswee8iya', 'taswiqiya',
]);

const STOP_VERBS_AR = [
  'وقف', 'وقفوا', 'وقفو', 'اوقف', 'اوقفوا', 'اوقفو', 'توقف', 'توقفوا', 'توقفو', 'توقفون', 'توقفين', 'ايقاف', 'بطل', 'بطلوا',
  'بطلو', 'بطلي', 'كفايه', 'كافي', 'يكفي', 'كف', 'كفوا',
  'wagif', 'wagef', 'wagfo', 'wagfu', 'wa8if', 'wa8ef', 'wa8fo', 'wa8fu', 'wgfo', 'batlo', 'batlu', 'battlo', 'battilo',
];
const REMOVE_VERBS = [
  'شيل', 'شيلوا', 'شيلو', 'اشيلوا', 'امسح', 'امسحوا', 'امسحو', 'احذف', 'احذفوا', 'احذفو', 'حذف', 'مسح', 'الغ', 'الغوا', 'الغو', 'طلع',
  'طلعوا', 'طلعو', 'ازيل', 'ازيلوا', 'ازيلو', 'ازل', 'ازاله', 'شطب', 'شطبوا', 'شطبو', 'اشطب', 'اشطبوا', 'remove', 'delete', 'erase',
  'shilo', 'shilu', 'sheelo', 'sheelu', 'shelo', 'sheel', 'shil', 'imsa7o', 'emsa7o', 'imsa7', 'emsa7', '7athfo', '7thfo',
  'e7thfo', 'i7thfo', '7ethfo', 'a7thfo', 'ehthfo',
];
const MY_NUMBER = [
  'رقمي', 'اسمي', 'رقمنا', 'بياناتي', 'جوالي', 'رقم جوالي', 'ra8mi', 'rgmi', 'ragmi', 'raqmi', 'rqmi', 'ra8my', 'rakmi', 'ragmy',
  'raqmy', 'rqmy', 'esmi', 'bayanati', 'my number', 'my contact', 'my details', 'my data', 'my info', 'my name', 'our number', 'me', 'us',
];
/** "Remove me": the verb carries the object ("شيلوني من القائمه", "طلعوني من القروب"). */
const REMOVE_ME_VERBS = [
  'شيلوني', 'شيلني', 'امسحوني', 'امسحني', 'احذفوني', 'احذفني', 'طلعوني', 'طلعني', 'ازيلوني', 'شطبوني', 'الغوني', 'sheeloni', 'shiloni',
  'shelooni', '6al3oni', 'tal3oni', '7thfoni', 'imsa7oni',
];
const REMOVE_ME_TAIL: ReadonlySet<string> = new Set([
  ...DONT_TAIL, 'من', 'القايمه', 'قايمتكم', 'قايمه', 'الليسته', 'القروب', 'الجروب', 'قروبكم', 'جروبكم', 'عندكم', 'القايمه', 'mn', 'min',
  'el', 'al', 'list', 'group', 'from', 'your', 'the', 'this',
]);

const UNSUBSCRIBE_PREFIX: ReadonlySet<string> = new Set([
  ...STOP_FILLERS, 'ابي', 'ابغي', 'ابغا', 'ابا', 'اطلب', 'نطلب', 'ارجو', 'نبي', 'نبغي', 'يرجي', 'ممكن', 'اريد', 'نريد', 'ودي',
  'abi', 'abgha', 'abga', 'abghi', 'nbi', 'i', 'want', 'to', 'we', 'can', 'you',
]);
const UNSUBSCRIBE_TAIL: ReadonlySet<string> = new Set([
  ...DONT_TAIL, 'في', 'من', 'ب', 'بالرسايل', 'القايمه', 'قايمتكم', 'عندكم', 'fi', 'mn', 'el',
]);

const STOP_SENDING_HEADS = ['stop', 'بطل', 'بطلوا', 'بطلو', 'بطلي', 'وقفوا', 'وقفو', 'batlo', 'batlu', 'battlo', 'battel', 'batel', 'wagfo', 'wa8fo'];
const DONT_VERBS = [...DONT_VERBS_AR, ...DONT_VERBS_ARABIZI];
const UNSUBSCRIBE_AR_HEADS = ['الغاء', 'الغي', 'الغوا', 'الغو', 'لغي', 'كنسل', 'كنسلوا', 'elgha2', 'elgha', 'ilgha2', 'ilgha', 'elghaa', 'el8a2', 'ilgaa', 'elgaa'];
const SUBSCRIPTION_AR = [
  'الاشتراك', 'اشتراكي', 'اشتراكنا', 'el eshtirak', 'al eshtirak', 'el ishtirak', 'al ishtirak', 'eshtirak', 'ishtirak', 'el eshterak', 'eshterak',
  'ishterak',
];
const ENOUGH_AR = ['كفايه', 'كافي', 'يكفي', 'كفايتكم'];
const SENDING_EN = [
  'sending', 'messaging', 'texting', 'contacting', 'calling', 'spamming', 'whatsapping', 'msging', 'msg', 'bothering', 'pinging', 'writing',
  'emailing', 'harassing', 'sending me', 'contacting me',
];
const CONTACT_EN = ['contact', 'message', 'msg', 'text', 'call', 'whatsapp', 'email', 'spam', 'bother', 'send', 'write to', 'reach'];
const WANT_AR = ['ابي', 'ابغي', 'ابغا', 'اريد', 'نبي', 'نبغي', 'نريد', 'ودي', 'ابيكم', 'ابغاكم', 'abi', 'abgha', 'abga', 'abghi', 'nbi', 'nabi', 'areed', 'nabgha'];
const RECEIVE_AR = ['توصلني', 'توصلنا', 'تجيني', 'تجينا', 'استقبل', 'نستقبل', 'اي', 'تراسلوني', 'ترسلون', 'ترسلوا', 'any'];
/** Between "stop" and "messages": "stop (sending) the messages", "وقفوا (ارسال) الرسايل". */
const STOP_OBJECT_LEAD = alt('عن', 'من', 'sending', 'the', 'these', 'this', 'your', 'ur', 'all', 'those', 'all the', 'all these', 'هذي', 'هذه', 'هاذي', 'el', 'al');

const OPT_OUT_PATTERNS = {
  stopPlusMessages: phrase(
    `${alt('stop', 'quit', 'cease', ...STOP_VERBS_AR)} (?:${STOP_OBJECT_LEAD} )?(?:${alt('ارسال', 'ersal', 'irsal')} )?${MESSAGE}`,
    MESSAGE_NOUNS,
  ),
  stopSending: phrase(`${alt('stop', 'quit', 'cease')} ${alt(...SENDING_EN)}`, ['stop', 'quit', 'cease']),
  stopSendingAr: phrase(`${alt(...STOP_SENDING_HEADS)} ${alt(...DONT_VERBS)}`, DONT_VERBS),
  unsubscribeEn: phrase(alt('unsubscribe', 'unsub', 'unsubscribe me', 'optout', 'opt me out'), ['unsubscribe', 'unsub', 'optout', 'opt']),
  optOutEn: phrase(`opt out(?! of (?:the |our |this |your |my )?(?:contract|plan|annual|subscription|deal|agreement|renewal|trial|package))`, ['opt']),
  removeMyNumber: phrase(
    `${alt(...REMOVE_VERBS)} ${alt(...MY_NUMBER)}(?! ${alt('القديم', 'الثاني', 'الاول', 'السابق', 'الاضافي', 'and add', 'from the cc', 'from cc')})`,
    REMOVE_VERBS,
  ),
  takeMeOff: phrase(`take ${alt('me', 'us', 'my number', 'our number')} off`, ['take']),
  dontContactMeEn: phrase(`${alt('dont', 'do not', 'never', 'please dont', 'pls dont', 'stop')} ${alt(...CONTACT_EN)} ${alt('me', 'us')}`, ['me', 'us']),
  dontWantMessagesEn: phrase(
    `${alt('i', 'we')} ${alt('dont', 'do not')} want ${alt('to receive', 'to get', 'any', 'these', 'your', 'more', 'those', 'the', 'you to send')}(?: ${alt('any', 'these', 'your', 'more', 'those', 'the', 'of these', 'of your')})* ${MESSAGE}`,
    ['want'],
  ),
  noMoreMessages: phrase(`no more ${alt('whatsapp messages', ...MESSAGE_NOUNS)}`, ['more']),
  leaveMeAlone: phrase('leave (?:me|us) alone', ['alone']),
  alreadyAsked: phrase(`${alt('i', 'we')} ${alt('asked', 'told')} you ${alt('to stop', 'not to')}`, ['asked', 'told']),
  thisIsSpam: phrase(`${alt('this is', 'its', 'that is', 'thats')} spam`, ['spam']),
  cancelMessages: phrase(
    `cancel ${alt('my', 'the', 'our')} subscription ${alt('to', 'for')} ${alt('these', 'your', 'the', 'this', 'whatsapp')}(?: ${alt('whatsapp', 'marketing')})? ${alt(...MESSAGE_NOUNS, 'list', 'broadcast')}`,
    ['cancel'],
  ),
  dontMessageAr: phrase(`${alt('لا', 'la', 'ما عاد', 'ma 3ad')}(?: ${alt('عاد', 'تعيدون', 'تعيد', 'ابد', 'ابدا', 'خلاص')})* ${alt(...DONT_VERBS)}`, DONT_VERBS),
  unsubscribeAr: phrase(`${alt(...UNSUBSCRIBE_AR_HEADS)} ${alt(...SUBSCRIPTION_AR)}`, UNSUBSCRIBE_AR_HEADS),
  dontWantMessagesAr: phrase(`${alt('ما', 'مو', 'ماني', 'ma', 'mo')} ${alt(...WANT_AR)} (?:${alt(...RECEIVE_AR)} )?${MESSAGE}`, MESSAGE_NOUNS),
  removeMe: phrase(alt(...REMOVE_ME_VERBS), REMOVE_ME_VERBS),
  enoughMessagesAr: phrase(`${alt(...ENOUGH_AR)} ${MESSAGE}`, ENOUGH_AR),
  noMessagingAr: phrase(
    `عدم ${alt('مراسلتي', 'مراسلتنا', 'المراسله', 'مراسله', 'الارسال', 'ارسال', 'التواصل', 'الاتصال', 'ازعاجي', 'الازعاج', 'ارسال الرسايل')}`,
    ['عدم'],
  ),
  blockThreat: phrase(`${alt('بسوي', 'اسوي', 'بعطيكم', 'بحط', 'ابسوي', 'بسويلكم', 'بعمل', 'راح اسوي')} (?:${alt('لكم', 'لك', 'عليكم')} )?بلوك`, ['بلوك']),
};

/** Every plain way of saying "stop messaging me", in Arabic, English and Arabizi. */
function isOptOut(text: string, tokens: readonly string[]): boolean {
  if (tokens.length > 0 && tokens.every((t) => STOP_WORDS.has(t) || STOP_FILLERS.has(t)) && tokens.some((t) => STOP_WORDS.has(t))) return true;
  const p = OPT_OUT_PATTERNS;
  return (
    [
      p.stopPlusMessages, p.stopSending, p.stopSendingAr, p.unsubscribeEn, p.optOutEn, p.removeMyNumber, p.takeMeOff, p.leaveMeAlone,
      p.alreadyAsked, p.thisIsSpam, p.noMoreMessages, p.cancelMessages, p.enoughMessagesAr, p.noMessagingAr, p.blockThreat,
    ].some((pattern) => hasUnnegated(text, tokens, pattern)) ||
    // "ما ابي رسايل" and "I don't want these messages" carry their own negation; only
    // stop-request words may surround them ("…more messages to customers going unanswered" is not one).
    fillsMessage(text, tokens, p.dontWantMessagesEn, DONT_PREFIX, DONT_WANT_TAIL) ||
    fillsMessage(text, tokens, p.dontWantMessagesAr, DONT_PREFIX, DONT_WANT_TAIL) ||
    fillsMessage(text, tokens, p.dontContactMeEn, DONT_PREFIX, DONT_TAIL) ||
    fillsMessage(text, tokens, p.dontMessageAr, DONT_PREFIX, DONT_TAIL) ||
    fillsMessage(text, tokens, p.unsubscribeAr, UNSUBSCRIBE_PREFIX, UNSUBSCRIBE_TAIL) ||
    fillsMessage(text, tokens, p.removeMe, DONT_PREFIX, REMOVE_ME_TAIL)
  );
}

// ---------------------------------------------------------------------------------------------
// Payment confirmation

const MONEY_OBJECTS = [
  'المبلغ', 'الفلوس', 'الدفعه', 'القيمه', 'الفاتوره', 'المستحقات', 'لكم', 'لك', 'لحسابكم', 'حسابكم', 'على', 'عليكم', 'الحين',
  'اليوم', 'امس', 'قبل', 'الصبح', 'العصر', 'عن', 'عبر', 'من', 'في', 'خلاص', 'تم', 'ريال', '\\d[\\d.,]*', 'the', 'via',
];
const PAID_FIRST_PERSON_AR = ['حولت', 'حولنا', 'حولتها', 'حولته', 'حولتلكم', 'حولناها', 'حولناه', 'دفعت', 'دفعنا', 'دفعناها', 'سددت', 'سددنا', 'سددناها', 'اودعت', 'اودعنا'];
const PAID_AT_START_AR = ['دفعت', 'دفعنا', 'سددت', 'سددنا', 'سددناها', 'دفعناها', 'حولت', 'حولنا', 'حولتها', 'حولناها'];
const SOMEONE_PAID_AR = ['حول', 'حولت', 'دفع', 'دفعت', 'سدد', 'سددت'];
const MONEY_MOVED_AR = ['تم', 'انرسل', 'اتحول', 'تحول', 'انحول', 'راح', 'نزل', 'وصلكم', 'انرسلت'];
const SENT_AR = ['ارسلت', 'ارسلنا', 'رسلت', 'sent'];
const RECEIPT_AR = ['ايصال', 'اشعار', 'سند', 'صوره', 'esal', 'eesal', 'wasl'];
const DONE_EN = ['done', 'completed', 'complete', 'made', 'sent', 'successful', 'processed', 'went through', 'تم'];
const TRANSFERRED_EN = ['transferred', 'wired', 'sent', 'deposited', 'paid', 'settled', 'remitted'];
const RECEIPT_EN = ['receipt', 'transfer receipt', 'proof of payment', 'payment proof', 'remittance', 'payment receipt', 'transfer slip'];
const DONE_ARABIZI = ['tm', 'tam', 'tamm', 'tamma'];
const PAID_ARABIZI = ['7awalt', '7awwalt', '7awalna', '7awwalna', 'hawalt', 'hawwalt', 'dafa3t', 'dafa3na', 'saddadt', 'saddadna', 'sadadt', 'sadadna'];

const PAYMENT_PATTERNS = {
  doneAr: phrase(`${alt('تم', 'تمت')} (?:ال)?${alt('تحويل', 'دفع', 'سداد', 'ايداع')}`, ['تم', 'تمت']),
  paidFirstPersonAr: phrase(`${alt(...PAID_FIRST_PERSON_AR)} ${alt(...MONEY_OBJECTS)}`, PAID_FIRST_PERSON_AR),
  someonePaidAr: phrase(`${alt('المحاسب', 'الماليه', 'الحسابات', 'المدير', 'الشركه', 'الاداره', 'المحاسبه')} ${alt(...SOMEONE_PAID_AR)}`, SOMEONE_PAID_AR),
  moneySentAr: phrase(`${alt('الدفع', 'التحويل', 'السداد', 'المبلغ', 'الفلوس', 'الحواله', 'الدفعه', 'payment', 'transfer')} ${alt(...MONEY_MOVED_AR)}`, MONEY_MOVED_AR),
  transferSentAr: phrase(`${alt(...SENT_AR)} ${alt('الحواله', 'الايصال', 'التحويل', 'ايصال التحويل', 'المبلغ')}`, SENT_AR),
  receiptAr: phrase(
    `${alt('هذا', 'هذي', 'هذه', 'مرفق', 'ارفقت', 'ارفقنا', 'وهذا', 'hatha')} ${alt(...RECEIPT_AR)} ${alt('التحويل', 'الدفع', 'السداد', 'الحواله', 'el ta7weel', 'al ta7weel', 'el daf3')}`,
    RECEIPT_AR,
  ),
  paymentDoneEn: phrase(
    `${alt('payment', 'transfer', 'wire', 'wire transfer', 'bank transfer', 'transaction', 'deposit', 'the payment', 'the transfer')} ${alt('is ', 'has been ', 'was ', 'been ')}?${alt(...DONE_EN)}`,
    DONE_EN,
  ),
  transferredEn: phrase(
    `${alt(...TRANSFERRED_EN)} ${alt('the', 'it', 'you', 'your', 'our', 'full')}? ?${alt('amount', 'money', 'payment', 'funds', 'invoice', 'deposit', 'balance', 'fees', 'first installment')}`,
    TRANSFERRED_EN,
  ),
  moneyTransferredEn: phrase(`${alt('money', 'funds', 'amount', 'payment')} ${alt('has been', 'have been', 'was', 'is', 'were')}? ?${alt('transferred', 'wired', 'sent', 'paid', 'deposited')}`, [
    'transferred', 'wired', 'sent', 'paid', 'deposited',
  ]),
  receiptEn: phrase(`${alt('here is', 'heres', 'here s', 'attached', 'attaching', 'please find', 'sending you')} ${alt('the', 'our', 'my')}? ?${alt(...RECEIPT_EN)}|receipt attached`, RECEIPT_EN),
  doneArabizi: phrase(`${alt(...DONE_ARABIZI)} ${alt('el', 'al')}? ?${alt('ta7weel', 'tahweel', 'daf3', 'dfa3', 'sadad', 'sadaad')}`, DONE_ARABIZI),
  paidArabizi: phrase(alt(...PAID_ARABIZI), PAID_ARABIZI),
};
const PAID_EN = phrase(alt('paid', 'just paid', 'already paid', 'have paid', 'has paid', 've paid'), ['paid']);
const PAID_AT_START_AR_REGEX = new RegExp(
  `^(?:${alt('خلاص', 'تمام', 'اوكي', 'ok')} )?${alt(...PAID_AT_START_AR)}(?:$| (?!${alt('ايميلك', 'الايميل', 'رسالتك', 'الرساله', 'طلبك', 'الموضوع', 'العرض', 'رقمك', 'المكالمه', 'الملف')}(?: |$)))`,
  'u',
);
const PAYMENT_NEGATIONS: ReadonlySet<string> = new Set([...NEGATIONS, 'yet', 'before', 'when', 'if', 'will', 'to be', 'be', 'get', 'unpaid', 'how']);
// Conditionals too: "لو دفعنا سنتين مقدم…" and "if we pay upfront…" are negotiation.
const PAYMENT_NEGATION_WORDS: ReadonlySet<string> = new Set([
  'not', 'havent', 'hasnt', 'didnt', 'dont', 'wont', 'never', 'yet', 'before', 'unpaid', 'if', 'لسا', 'للحين', 'ما', 'لم', 'متي', 'كيف',
  'وين', 'لو', 'اذا', 'lissa', 'mata', 'wain', 'law', 'lw', 'itha',
]);

function isPaymentConfirmation(text: string, tokens: readonly string[]): boolean {
  // "ما حولت", "not paid yet", "when do I pay?": never a confirmation, whatever else it says.
  if (tokens.some((token) => PAYMENT_NEGATION_WORDS.has(token))) return false;
  return (
    PAID_AT_START_AR_REGEX.test(text) ||
    Object.values(PAYMENT_PATTERNS).some((pattern) => hasUnnegated(text, tokens, pattern, PAYMENT_NEGATIONS)) ||
    (!tokens.includes('?') && hasUnnegated(text, tokens, PAID_EN, PAYMENT_NEGATIONS))
  );
}

// ---------------------------------------------------------------------------------------------
// Wrong contact

const WRONG_WORDS = ['غلط', 'خطا', 'خاطي', 'غلطان', 'ghalat', 'ghlt', 'ghalt', 'khata', 'ghalatt'];
const MISTAKEN = ['غلطان', 'غلطانين', 'غلطت', 'غلطتوا', 'غلطتو', 'ghalatan', 'ghaltan'];
const KNOW = ['اعرف', 'نعرف', 'a3rf', 'a3ref', 'a3arf'];
const LEFT_AR = ['طلعت', 'استقلت', 'تركت', 'tele3t', 'tala3t'];
const WORK_AR = ['اشتغل', 'ashtegel', 'ashtaghel'];

const WRONG_CONTACT_PATTERNS: readonly Phrase[] = [
  phrase(`${alt('رقم', 'الرقم', 'ra8am', 'raqam', 'rgm', 'ragam', 'rakam', 'el ra8am', 'el raqam', 'al ra8am')} ${alt(...WRONG_WORDS)}`, WRONG_WORDS),
  phrase(`${alt(...MISTAKEN)} ${alt('بالرقم', 'في الرقم', 'فالرقم', 'بالشخص', 'bel ra8am', 'bil ra8am', 'fel ra8am', 'bel raqam')}`, MISTAKEN),
  phrase(`${alt('ما', 'ma')} ${alt(...KNOW)} ${alt('احد', 'حد', 'شخص', 'a7ad', 'ahad')} ${alt('بهالاسم', 'اسمه', 'بهذا الاسم', 'bhal esm', 'bhal ism', 'esmah', 'ismah')}`, KNOW),
  phrase(`${alt('ما', 'مافي', 'ما في', 'ما فيه')} ${alt('احد', 'حد')} ${alt('هنا', 'عندنا')}? ?اسمه`, ['اسمه']),
  phrase(`${alt(...LEFT_AR)} ${alt('من', 'mn', 'min')} ${alt('الشركه', 'الشغل', 'el sharika', 'al sharika', 'el shareka')}`, LEFT_AR),
  phrase(`${alt('ما', 'ma')} ${alt('عاد', 'عدت', '3ad')} ${alt(...WORK_AR)}`, WORK_AR),
  phrase(`wrong ${alt('number', 'no', 'num', 'person', 'contact', 'guy', 'whatsapp', 'company')}`, ['wrong']),
  phrase(`${alt('you have', 'youve got', 'you got', 'you have got', 'you texted', 'you messaged', 'you sent this to', 'you reached')} ${alt('the', 'a')} wrong`, ['wrong']),
  phrase(`no ${alt('one', 'body')} ${alt('by', 'with', 'called', 'named')} that name`, ['name']),
  phrase(`${alt('i', 'ive', 'i have')} ${alt('left', 'quit')} ${alt('the company', 'that company', 'the firm', 'there', 'this company')}`, ['left', 'quit']),
  phrase(`${alt('dont', 'do not', 'no longer')} work ${alt('there', 'for them', 'at', 'with them', 'for that company')}`, ['work']),
  phrase(`${alt('الشخص', 'للشخص', 'شخص')} ${alt('الغلط', 'غلط')}`, ['الغلط', 'غلط']),
  phrase(`${alt('this number', 'that number')} ${alt('belongs to', 'is for', 'is now')} ${alt('someone', 'somebody', 'another')}`, ['number']),
];

// ---------------------------------------------------------------------------------------------
// Greeting only

/** Words a greeting is made of; a message of only these (and at most a name after ابو / يا) is a greeting. */
const GREETING_WORDS: ReadonlySet<string> = new Set([
  'السلام', 'سلام', 'عليكم', 'وعليكم', 'ورحمه', 'الله', 'وبركاته', 'هلا', 'هلاء', 'اهلا', 'اهلين', 'وسهلا', 'مرحبا', 'مرحبتين',
  'مرحباء', 'ومرحبا', 'يا', 'والله', 'وغلا', 'فيك', 'بك', 'فيكم', 'حياك', 'حياكم', 'صباح', 'مساء', 'صباحك', 'مساك',
  'الخير', 'خير', 'النور', 'والسرور', 'الورد', 'الفل', 'كيف', 'الحال', 'حالك', 'حالكم', 'الاحوال', 'شلونك', 'شلونكم', 'شخبارك',
  'عساك', 'عساكم', 'طيب', 'بخير', 'اخوي', 'اخي', 'الغالي', 'بالغالي', 'يعطيك', 'يعطيكم', 'العافيه', 'بالاخو', 'ابو', 'ام',
  '?', '👋', '🙏',
  'hi', 'hello', 'hey', 'hiya', 'heya', 'good', 'morning', 'evening', 'afternoon', 'day', 'greetings', 'there', 'how', 'are',
  'you', 'doing', 'well', 'hope', 'youre', 'its', 'going', 'sir', 'bro', 'dear', 'all', 'team', 'everyone', 'and', 'morning',
  'salam', 'salaam', 'alaikom', 'alaykum', '3alaikom', '3alaykom', 'alaikum', 'hala', 'wallah', 'marhaba', 'ahlan', 'ahlain',
  'ahleen', 'wa', 'sahlan', '7ayak', '7ayakom', 'hayak', 'allah', 'sabah', 'masa', 'masa2', 'el', 'al', 'khair', 'kheir', 'noor',
  'ya', 'akhooy', 'akhoy', 'akhi', 'shlonak', 'shlonk', 'kaifak', 'kefak', '3asak', 'b5air', 'bkhair',
]);
/** At least one of these must be there: "طيب" or "خير؟" alone is not a greeting. */
const GREETING_CORE: ReadonlySet<string> = new Set([
  'السلام', 'سلام', 'وعليكم', 'هلا', 'اهلا', 'اهلين', 'مرحبا', 'مرحبتين', 'حياك', 'حياكم', 'صباح', 'مساء', 'صباحك', 'مساك', 'شلونك',
  'شلونكم', 'شخبارك', 'يعطيك', 'يعطيكم', 'حالك', 'الحال', 'حالكم', 'hi', 'hello', 'hey', 'hiya', 'heya', 'morning', 'evening',
  'afternoon', 'greetings', 'salam', 'salaam', 'hala', 'marhaba', 'ahlan', 'ahlain', 'ahleen', '7ayak', '7ayakom', 'hayak', 'sabah',
  'masa', 'masa2', 'shlonak', 'shlonk', 'kaifak', 'kefak', '👋',
]);
const NAME_INTRODUCERS: ReadonlySet<string> = new Set(['ابو', 'ام', 'يا', 'اخ', 'الاخ', 'استاذ', 'الاستاذ', 'ابا']);

function isGreetingOnly(tokens: readonly string[]): boolean {
  if (tokens.length === 0) return false;
  let hasGreeting = false;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (GREETING_WORDS.has(token)) {
      if (GREETING_CORE.has(token)) hasGreeting = true;
      continue;
    }
    // One Arabic-script name after ابو / يا / استاذ: "هلا ابو فهد".
    if (NAME_INTRODUCERS.has(tokens[i - 1] ?? '') && /^[\u0621-\u064A]+$/u.test(token)) continue;
    return false;
  }
  return hasGreeting;
}

// ---------------------------------------------------------------------------------------------
// "Stop" in another sense

/** Words that make a following "stop" a place or a thing: "bus stop", "non-stop", "one-stop shop". */
const STOP_AS_NOUN_BEFORE: ReadonlySet<string> = new Set([
  'bus', 'non', 'one', 'pit', 'full', 'last', 'next', 'first', 'truck', 'rest', 'metro', 'train', 'tram', 'taxi', 'final', 'a', 'the',
]);
/** Words that make a preceding "stop" something else: "stop by", "stop loss". */
const STOP_AS_OTHER_AFTER: ReadonlySet<string> = new Set(['by', 'over', 'in', 'loss', 'losses', 'watch', 'light', 'lights', 'sign', 'gap', 'offer', 'using', 'working']);
const STOP_NEGATIONS: ReadonlySet<string> = new Set(['dont', 'never', 'wont', 'cant', 'didnt', 'not', 'لا', 'ما', 'لم', 'مو', 'la', 'ma']);
const OTHER_SENSE_TOKENS: ReadonlySet<string> = new Set([
  'nonstop', 'stopover', 'stopwatch', 'stoploss', 'unstoppable', 'unsubscribed', 'unsubscribing', 'موقف', 'الموقف', 'مواقف', 'المواقف',
  'وقفت', 'وقفنا', 'wgaft', 'wagaft', 'w8aft',
]);
const STOPPED_THING_AR: ReadonlySet<string> = new Set(['النظام', 'الخدمه', 'السيستم', 'التطبيق', 'الموقع', 'الشغل', 'البرنامج', 'الدعم', 'العرض', 'الخصم']);
const REPLACE_NUMBER = new RegExp(`(?:^| )${alt(...REMOVE_VERBS)} ${alt('رقمي', 'رقمنا', 'my number')} ${alt('القديم', 'الثاني', 'الاول', 'السابق', 'الاضافي', 'old', 'previous')}(?= |$)`, 'u');
const STOP_LIKE = new Set(['stop', 'وقف', 'توقف', 'توقفون', 'توقفوا', 'يوقف', 'wagif', 'unsubscribe']);

/**
 * Why a message that the model reads as an opt-out, and that no opt-out rule matched, uses
 * "stop" in another sense — "the bus stop near your office?", "don't stop the offer",
 * "وقفت السيارة", "لا تشيل هم" — or undefined. The classifier then sets opt_out aside. It
 * never overrides an opt-out rule: a real stop request is caught by the rules above.
 */
export function stopInAnotherSense(normalized: string): string | undefined {
  const tokens = tokenize(normalized);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    const previous = tokens[i - 1] ?? '';
    const next = tokens[i + 1] ?? '';
    if (OTHER_SENSE_TOKENS.has(token)) return `"${token}" is not a request to stop messages`;
    if (!STOP_LIKE.has(token)) continue;
    if (STOP_AS_NOUN_BEFORE.has(previous)) return `"${previous} ${token}" is a place or a thing`;
    if (STOP_AS_OTHER_AFTER.has(next)) return `"${token} ${next}" is not about messages`;
    if (STOP_NEGATIONS.has(previous)) return `"${previous} ${token}" asks to keep something going`;
    if (STOPPED_THING_AR.has(next)) return `"${token} ${next}" is about a service, not messages`;
  }
  if (/(?:^| )(?:تشيل|شيل|تشيلون|تشيلين) هم(?: |$)/u.test(normalized)) return '"لا تشيل هم" means "don\'t worry"';
  if (REPLACE_NUMBER.test(normalized)) return 'replaces an old number with a new one';
  return undefined;
}

/** The rules in priority order: opt-out first, whatever else the message says. */
export const INTENT_RULES: readonly IntentRule[] = [
  {
    name: 'opt_out',
    intent: 'opt_out',
    confidence: 0.99,
    description: 'asks to stop messages or to be removed (PDPL Art. 25)',
    matches: (text, tokens) => isOptOut(text, tokens),
  },
  {
    name: 'payment_confirmation',
    intent: 'payment_confirmation',
    confidence: 0.97,
    description: 'says the payment or transfer was made',
    matches: (text, tokens) => isPaymentConfirmation(text, tokens),
  },
  {
    name: 'wrong_contact',
    intent: 'wrong_contact',
    confidence: 0.97,
    description: 'wrong number, wrong person or no longer at the company',
    matches: (text, tokens) => WRONG_CONTACT_PATTERNS.some((pattern) => hasUnnegated(text, tokens, pattern, EMPTY)),
  },
  {
    name: 'greeting_only',
    intent: 'greeting',
    confidence: 0.95,
    description: 'nothing but a greeting',
    matches: (_text, tokens) => isGreetingOnly(tokens),
  },
];

/**
 * The first rule that matches the normalised text, if any.
 *
 * @example
 * matchRule(normalizeText('شيلوا رقمي لو سمحت'))?.intent // → 'opt_out'
 * matchRule(normalizeText('the bus stop near your office?')) // → undefined
 */
export function matchRule(normalized: string): IntentRule | undefined {
  const tokens = tokenize(normalized);
  return INTENT_RULES.find((rule) => rule.matches(normalized, tokens));
}
