import { detectLanguage } from './language.ts';
import { tokenize } from './normalize.ts';
import { phoneticSkeleton } from './skeleton.ts';

/**
 * Cue words: a small hand-written lexicon of the words that signal each intent, in Arabic
 * (Gulf and MSA), English and Arabizi, in normalised spelling. The model gets one feature per
 * cue that a message contains ("cue:price"), so what it learns from "كم السعر" also counts
 * for "how much" and "kam el se3r" — the data set has a few dozen examples per intent and
 * script, too few to learn every spelling from scratch.
 *
 * These are the words of the domain (what people say about prices, meetings, contracts),
 * written from knowledge of how Gulf customers write and extended while reading the
 * cross-validation errors on the train split — never from the test split. The model still
 * decides how much each cue weighs. Arabic entries also reach Arabizi through their sound
 * skeleton (skeleton.ts), so "mit2aked" finds "متاكد" without its own entry.
 */
export const CUES = {
  greeting: [
    'صبحك', 'بالخير', 'رمضان كريم', 'ramadan kareem', 'عيد مبارك', 'eid mubarak', 'عساك', 'بخير', '3asak', 'b5air', 'bkhair',
    'wa3alaikom', 'وعليكم', 'هلا', 'مرحبا', 'اهلا', 'اهلين', 'السلام', 'سلام', 'صباح', 'مساء', 'حياك', 'حياكم', 'شلونك',
    'العافيه', 'مبارك', 'كريم', 'hi', 'hello', 'hey', 'morning', 'evening', 'greetings', 'mubarak', 'salam', 'hala', 'marhaba',
    'ahlan', '7ayak', 'sabah', 'masa2', 'shlonak', 'kaifak', '👋',
  ],
  interest: [
    'عاجبتني', 'عجبني', 'شوقتني', 'نستفيد', 'محتاجين', 'curious', 'love', 'presentation', 'could work', 'help', 'مهتم',
    'مهتمين', 'يهمني', 'يهمنا', 'تفاصيل', 'التفاصيل', 'اكثر', 'المزيد', 'حلو', 'حلوه', 'ممتاز', 'ممتازه', 'البروشور',
    'المعلومات', 'نحتاج', 'نجربه', 'مفيد', 'interested', 'interesting', 'details', 'more', 'brochure', 'promising', 'keen',
    'great', 'sounds', 'learn', 'mohtam', 'mohtameen', 'tafaseel', 'akthar', '7elw', '7elo', 'yhmna', 'zain',
  ],
  price: [
    'قدها', 'القيمه', 'الرخصه', 'تبون', 'يطلع', 'sheet', 'license', 'per', 'annually', 'model', 'بكم', 'سعر', 'السعر', 'اسعار',
    'الاسعار', 'تكلفه', 'التكلفه', 'تكلف', 'يكلف', 'رسوم', 'الرسوم', 'تاخذون', 'الباقات', 'باقه', 'الباقه', 'الضريبه', 'تطلعني',
    'price', 'prices', 'pricing', 'cost', 'costs', 'fees', 'how much', 'quote', 'quotation', 'packages', 'plan', 'vat', 'bkam',
    'se3r', 'as3ar', 'taklefa', 'ba8a', 'package',
  ],
  meeting: [
    'يشرح', 'تشرح', 'نشرح', 'نجتمع', 'نتناقش', 'مكالمه', 'فيديو', 'تمرنا', 'تجون', 'walk us through', 'presentation', 'ring',
    'talk', 'available', 'mokalma', 'yshra7', 'wednesday', 'الاربعاء', 'الخميس', 'الاحد', 'الثلاثاء', 'الاثنين', 'اجتماع',
    'الاجتماع', 'لاجتماع', 'موعد', 'ديمو', 'زوم', 'تيمز', 'اتصل', 'كلمني', 'زياره', 'تزورنا', 'نجلس', 'نلتقي', 'نتقابل',
    'نتكلم', 'تعال', 'المكتب', 'لايف', 'عرض تقديمي', 'احجز', 'نحدد', 'يناسبني', 'الساعه', 'فاضي', 'فاضيين', 'meeting', 'meet',
    'call', 'demo', 'zoom', 'teams', 'visit', 'schedule', 'calendar', 'invite', 'book', 'ejtima3', 'maw3ed', 'kallemny',
    'etsel', 'njlis', 'tzoorna', 'sa3a', 'yenasebni', 'netkallam', 'stop by', 'come by',
  ],
  info: [
    'kam yoom', 'kam wa8t', 'kam mdda', 'kam mddat', 'kam ya5ith', 'kam user', 'how many', 'how long', 'كم ياخذ', 'كم يوم',
    'كم وقت', 'كم مده', 'كم مستخدم', 'كم فرع', 'مشفره', 'معتمد', 'يمديني', 'دليل', 'اللغات', 'عمله', 'تقارير', 'تتكاملون',
    'يغطي', 'compliant', 'export', 'languages', 'interface', 'guide', 'reports', 'servers', 'features', 'dashboard', 'branches',
    'how does', 'what happens', 'what kind', 'rabt', 'da3m', 'يدعم', 'تدعمون', 'يتكامل', 'يربط', 'الربط', 'ربط', 'تكامل',
    'تطبيق', 'دعم', 'الدعم', 'تدريب', 'وين', 'فرع', 'مقركم', 'موقعكم', 'البيانات', 'محفوظه', 'سحابي', 'فتره تجريبيه',
    'المميزات', 'الفرق', 'يشتغل', 'ينفع', 'هل', 'عملائكم', 'شهادات', 'البروفايل', 'support', 'supports', 'integrate',
    'integration', 'app', 'training', 'where', 'office', 'hosted', 'trial', 'difference', 'cloud', 'clients', 'api', 'yed3am',
    'yet2amal', 'wain', 'far3', 'ma7footha',
  ],
  objection: [
    'نار', 'غاليه', 'ghalya', 'too high', 'التغيير', 'change', 'resistant', 'missing', 'lacks', 'wont work', 'صغيره', 'small',
    'تحفظ', 'reservations', 'too much', 'doesnt fit', 'يتناسب', 'مقتنع', 'مقتنعين', 'مقتنعه', 'نخاطر', 'مخاطره', 'سمعه',
    'متعودين', 'متعود', 'صعب', 'فرق', 'خذلتنا', 'مبالغ', 'عاليه', 'فوق', 'مو متاكد', 'pricey', 'risky', 'risk', 'in house',
    'basic', 'locked', 'above', 'not sure', 'another provider', 'mit2aked', 'mot3awed', 'غالي', 'مرتفع', 'ارخص', 'المنافس',
    'ميزانيتنا', 'الميزانيه', 'ميزانيه', 'خايفين', 'نخاف', 'مخاوف', 'نثق', 'معقد', 'عندنا', 'ما اظن', 'يستاهل', 'مديري',
    'expensive', 'budget', 'competitor', 'cheaper', 'already', 'worried', 'complicated', 'approve', 'concern', 'concerns',
    'privacy', 'security', 'ghali', 'mrtafe3', 'munafes', 'ar5as', 'meezaniya',
  ],
  later: [
    'الصيف', 'لين', 'بعده', 'بعدها', 'نأجل', 'ناجلها', 'ناجل', 'تاجيل', 'لاحقا', 'حاليا', 'مو وقته', 'holidays', 'summer',
    'again', 'back', 'weeks', 'months', 'until', 'year', 'saif', 'lain', 'shahrain', 'esboo3', 'esbo3ain', 'بعدين', 'الجاي',
    'الجايه', 'رمضان', 'العيد', 'الاجازه', 'مشغول', 'مسافر', 'مؤجل', 'ذكرني', 'ارجع', 'اسبوعين', 'شهر', 'بدايه', 'الربع',
    'later', 'next', 'after', 'busy', 'traveling', 'travelling', 'remind', 'revisit', 'follow', 'quarter', 'ba3dain',
    'mashghool', 'msafer', 'ba3d', 'jay', 'wa8tah', 'ramadan',
  ],
  decline: [
    'مو حاجتنا', 'ما ودنا', 'مانبي', 'مانبيه', 'nope', 'were good', 'all set', 'not needed', 'مو بحاجه', 'ماله داعي',
    'ما يحتاج', 'نرفض', 'dont want', 'ma nbi', 'mo 7ajatna', 'مو مهتم', 'مو مهتمين', 'لا شكرا', 'ما نحتاج', 'ما نبي', 'ما نبغي',
    'ما يهمنا', 'ما يناسبنا', 'مو محتاجين', 'لسنا', 'مشكور', 'no thanks', 'not interested', 'pass', 'no need', 'not for us',
    'not relevant', 'dont need', 'no interest', 'mo mohtam', 'la shukran', 'ma n7taj', 'ma yhmna', 'mo mohtameen',
  ],
  discount: [
    'تراعينا', 'راعونا', 'consider', 'price down', 'نفس العرض', 'same offer', 'split', 'نقسم', 'تقسيم', 'سعر خاص', 'افضل',
    'special', 'loyalty', 'sweeten', 'af6al', 'a8al', 'اقساط', 'قسط', 'installment', 'a8sa6', 'مرن', 'مرنه', 'مجاني', 'مجانا',
    'ببلاش', 'اقل', 'تمدد', 'تمديد', 'lowest', 'flexible', 'flexibility', 'prepay', 'lock', 'quarterly', 'less', 'for free',
    'majal', 'marna', 'خصم', 'الخصم', 'خصما', 'تخفيض', 'تنزل', 'نزل', 'نزلت', 'احسن سعر', 'اخر سعر', 'نقسط', 'تقسيط', 'دفعتين',
    'تطابق', 'عرض خاص', 'بدل', 'نتفاهم', 'discount', 'off', 'negotiate', 'installments', 'best', 'final', 'better', 'match',
    'terms', 'rate', '5asm', 'khasm', 'n8asset', 'nazzel', 'a7san', 'a5er', 'bdal', '%',
  ],
  buy: [
    'decided to go', 'go with you', 'get started', 'وقعنا', 'وقع', 'wa22a3na', 'proceed', 'purchase', 'order', 'activate',
    'issue', 'po', 'agreement', 'signature', 'sign up', 'move forward', 'نفعل', 'امر الشراء', 'اصدر', 'جهزوا', 'التعاقد',
    'وافقنا', 'وافقت', 'موافق', 'نشتري', 'ناخذ', 'well take', 'lets go', 'wafa8na', 'afa3el', 'العقد', 'عقد', 'الفاتوره',
    'رابط الدفع', 'نوقع', 'للتوقيع', 'اشترك', 'نشترك', 'اعتمد', 'اعتمدنا', 'نعتمده', 'موافقين', 'الموافقه', 'نبدا', 'نمشي',
    'اتفقنا', 'الاجراءات', 'رخصه', 'اشتري', 'جاهزين', 'ادفع', 'الايبان', 'رقم الحساب', 'contract', 'invoice', 'sign',
    'subscribe', 'payment link', 'go ahead', 'approved', 'start', 'ready', 'paperwork', 'licenses', 'deal', 'accept', 'iban',
    'pay', '3a8d', 'fatoora', 'ashtarek', 'nwa88e3', 'nebda', 'nemshi', 'adfa3', 'jahzeen',
  ],
  paid: [
    'حولت', 'حولنا', 'تم', 'التحويل', 'دفعت', 'دفعنا', 'سددنا', 'سددت', 'ايصال', 'الحواله', 'السداد', 'انرسل', 'paid',
    'transferred', 'wired', 'receipt', 'settled', 'payment', 'transfer', '7awalt', 'dafa3t', 'ta7weel', 'saddadna',
  ],
  stop: [
    'وقف', 'وقفوا', 'تراسلوني', 'رقمي', 'رسايل', 'الرسايل', 'ازعاج', 'بطلوا', 'stop', 'unsubscribe', 'remove', 'messages',
    'spam', 'wagif', 'ra8mi', 'rasayel',
  ],
  wrong: [
    'الشخص', 'شخص ثاني', 'مو انا', 'not me', 'someone else', 'the wrong', 'تقاعدت', 'retired', 'مو له', 'استقبال', 'علاقه',
    'not the right', 'shakhs', 'mo ana', 'غلط', 'غلطان', 'خاطي', 'اعرف', 'المسؤول', 'طلعت', 'wrong', 'left', 'anymore',
    'ghalat', 'mas2ool',
  ],
  acknowledgement: [
    'ماشي', 'اوك', 'يب', 'got it', 'alright', 'sure', 'yep', 'np', 'الحمدلله', 'received', 'الاستلام', 'تمام', 'اوكي', 'طيب',
    'ابشر', 'شكرا', 'مشكور', 'ok', 'okay', 'k', 'thanks', 'noted', 'cool', 'tamam', 'tayeb', 'abshir', 'mashkoor', '👍', '👌',
    '🙏',
  ],
  /** A time close enough to be an appointment: today, tomorrow, an hour, a weekday. */
  soon: [
    'بكره', 'بكرا', 'اليوم', 'الحين', 'الساعه', 'العصر', 'الظهر', 'الصبح', 'المغرب', 'العشا', 'الليله', 'tomorrow', 'today',
    'tonight', 'pm', 'am', 'oclock', 'now', 'bukra', 'bokra', 'al7een', 'el yoom', 'sa3a', '3asr',
  ],
  /** A time far enough to be a postponement: weeks, months, a season, a quarter. */
  far: [
    'الحج', 'hajj', '7aj', 'الشهر', 'شهر', 'شهرين', 'اسبوعين', 'السنه', 'الربع', 'رمضان', 'العيد', 'الصيف', 'الاجازه', 'month',
    'months', 'weeks', 'quarter', 'year', 'summer', 'holidays', 'eid', 'ramadan', 'q1', 'q2', 'q3', 'q4', 'january', 'shahar',
    'shahrain', '3eed', 'saif', 'sana',
  ],
  /** "If you …, we …": conditions are how people haggle. */
  conditional: ['لو', 'اذا', 'بشرط', 'if', 'law', 'lw', 'itha', 'provided', 'unless'],
  /** Something they already have or use. */
  incumbent: [
    'عندنا', 'نظامنا', 'نستخدم', 'الحالي', 'الحاليه', 'مورد', 'المورد', 'منافسكم', 'already', 'current', 'currently',
    'existing', 'using', 'provider', '3indna',
  ],
  /** A worry or a doubt. */
  concern: [
    'خايف', 'خايفين', 'نخاف', 'قلق', 'قلقانين', 'مخاوف', 'مشكله', 'مشكلتنا', 'صعب', 'معقد', 'سيئه', 'سيي', 'ما نثق', 'ما اظن',
    'ما اشوف', 'مو مقتنع', 'مو متاكد', 'worried', 'risk', 'risky', 'trust', 'doubt', 'bad', 'hard', 'difficult', 'complicated',
    'not sure', 'dont think', 'dont see', '5ayef', '5ayfeen', 'sa3b', 'ma athon', 'ma ashoof',
  ],
  /** "I want / we want": a request is coming. */
  want: ['ابي', 'ابغي', 'ابغا', 'نبي', 'نبغي', 'ودي', 'ودنا', 'اريد', 'نريد', 'want', 'like', 'abi', 'abgha', 'nbi', 'ab3a'],
  /** The speaker talking about who they are. */
  identity: ['انا', 'i', 'im', 'ana', 'this is', 'هذا رقم', 'رقمي', 'اسمي', 'my name', 'number'],
  /** "What do you mean?": the reader did not follow. */
  confused: ['فاهم', 'فهمت', 'تقصد', 'قصدك', 'السالفه', 'سالفه', 'fahem', 'fhemt', 't8sd', 'salfa', 'mean', 'understand', 'تعيد'],
  /** "What's the next step?": asks how to go on. */
  next_step: ['الخطوه الجايه', 'الخطوه', 'next step', 'whats next', 'what next', 'el 5a6wa', '5a6wa'],
  /** "كم" asks how much or how many: a price only together with a price word. */
  quantity: ['كم', 'kam', 'many'],
  question: ['?'],
} as const satisfies Record<string, readonly string[]>;

export type CueName = keyof typeof CUES;

// Arabic clitics a word may carry in front: و ف ب ل ك and the article (with them).
const ARABIC_PREFIX = /^(?:وال|فال|بال|كال|لل|ال|و|ف|ب|ل)(?=[\u0621-\u064A]{2,})/u;

const singleWordCues = new Map<string, CueName[]>();
// Phrases by their first word, so a message is only checked against phrases that can start in it.
const phraseCues = new Map<string, Array<{ words: string[]; cue: CueName }>>();
// Arabic cue words by sound skeleton, so that an Arabizi spelling finds them ("mit2aked" → متاكد).
const skeletonCues = new Map<string, CueName[]>();
for (const [cue, words] of Object.entries(CUES) as Array<[CueName, readonly string[]]>) {
  for (const word of words) {
    if (word.includes(' ')) {
      const words = word.split(' ');
      const first = words[0] as string;
      phraseCues.set(first, [...(phraseCues.get(first) ?? []), { words, cue }]);
    } else singleWordCues.set(word, [...new Set([...(singleWordCues.get(word) ?? []), cue])]);
    const skeleton = /^[\u0621-\u064A]+$/u.test(word) ? phoneticSkeleton(word) : undefined;
    // Two-consonant skeletons are too common to trust across scripts.
    if (skeleton !== undefined && skeleton.length >= 3) skeletonCues.set(skeleton, [...new Set([...(skeletonCues.get(skeleton) ?? []), cue])]);
  }
}

/** A word after these is a form of address ("يا غالي" is "my dear", not "expensive"). */
const VOCATIVES: ReadonlySet<string> = new Set(['يا', 'ya']);

/** Words that turn the next two words around: "مو مهتم" is not interest. */
const NEGATORS: ReadonlySet<string> = new Set([
  'مو', 'ما', 'لا', 'مب', 'مش', 'غير', 'بدون', 'لسنا', 'ليس', 'ليست', 'لست', 'ماني', 'مانيب', 'لم', 'لن', 'not', 'no', 'dont', 'isnt',
  'arent', 'never', 'without', 'doesnt', 'didnt', 'wont', 'mo', 'mu', 'ma', 'la', 'mob',
]);

/**
 * The cues a normalised message contains, once each, in a fixed order; a cue word right
 * after a negation counts as "not:<cue>" instead.
 *
 * @example
 * findCues('kam el se3r') // → ['price', 'quantity']
 * findCues('وش اسعاركم؟') // → ['price', 'question'] ("اسعاركم" matches "اسعار" after the suffix is tried off)
 */
export function findCues(normalized: string, latinIsArabic: boolean = detectLanguage(normalized) !== 'en'): string[] {
  const found = new Set<string>();
  const tokens = tokenize(normalized);
  // Phrases first; their words then count only as the phrase ("رمضان كريم" is a greeting,
  // not a postponement to Ramadan).
  const covered = new Array<boolean>(tokens.length).fill(false);
  tokens.forEach((token, start) => {
    for (const { words, cue } of phraseCues.get(token) ?? []) {
      if (start + words.length > tokens.length || !words.every((word, k) => tokens[start + k] === word)) continue;
      found.add(cue);
      for (let k = 0; k < words.length; k++) covered[start + k] = true;
    }
  });
  tokens.forEach((token, i) => {
    if (covered[i]) return;
    const vocative = VOCATIVES.has(tokens[i - 1] ?? '');
    const negated = NEGATORS.has(tokens[i - 1] ?? '') || NEGATORS.has(tokens[i - 2] ?? '');
    const cues = new Set<CueName>();
    for (const form of wordForms(token)) for (const cue of singleWordCues.get(form) ?? []) cues.add(cue);
    if (latinIsArabic && cues.size === 0 && /[a-z]/.test(token)) {
      const skeleton = phoneticSkeleton(token);
      if (skeleton !== undefined) for (const cue of skeletonCues.get(skeleton) ?? []) cues.add(cue);
    }
    for (const cue of cues) {
      if (vocative && cue !== 'greeting') continue;
      found.add(negated ? `not:${cue}` : cue);
    }
  });
  return [...found].sort();
}

/** The token, without a leading clitic, and without a possessive ending (كم / نا / ي / ه). */
function wordForms(token: string): string[] {
  const forms = [token];
  const bare = token.replace(ARABIC_PREFIX, '');
  if (bare !== token) forms.push(bare);
  for (const form of [token, bare]) {
    const withoutSuffix = form.replace(/(?:كم|نا|ها|ي|ه)$/u, '');
    if (withoutSuffix !== form && withoutSuffix.length >= 3) forms.push(withoutSuffix);
  }
  return forms;
}
