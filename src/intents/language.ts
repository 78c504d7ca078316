import type { Language } from './intents.ts';
import { tokenize } from './normalize.ts';

const ARABIC_LETTER = /[\u0621-\u064A\u0671-\u06D3\u06FA-\u06FF]/u;
const LATIN_LETTER = /[a-z]/;

// A digit standing for an Arabic sound inside a word: 3 (ع), 7 (ح), 2 (ء), 5 (خ), 6 (ط),
// 8 (ق), 9 (ص): "as3ar", "7ayak", "ta5thoon", "ra8mi".
const ARABIZI_DIGIT = /[a-z][235-9]|[235-9][a-z]/;
// …but "3pm", "2nd", "q3", "4k", "5g", "50gb" are English.
const ENGLISH_NUMBER_WORD = /^(?:\d+(?:am|pm|st|nd|rd|th|k|m|x|g|gb|mb|h|hr|hrs|min|mins|yr|yrs|sar|usd|aed|d)|q[1-4]|p[1-9]|[a-z]\d)$/;

/**
 * Frequent Gulf Arabizi words with no digit in them. Words English also uses ("fee", "min",
 * "la", "ok") are left out on purpose: they are evidence of neither.
 */
const ARABIZI_WORDS: ReadonlySet<string> = new Set([
  'ana', 'enta', 'inta', 'anta', 'enti', 'inti', 'ihna', 'e7na', 'hum', 'abgha', 'abga', 'abi', 'abee', 'abghi', 'nbi', 'nabi',
  'nbgha', 'nabgha', 'wesh', 'wish', 'waish', 'wsh', 'shno', 'shlon', 'shlonak', 'shlonk', 'kaif', 'kaifak', 'kef', 'kefak', 'lesh',
  'laish', 'laysh', 'mo', 'mu', 'ma', 'ee', 'aiwa', 'aywa', 'eywa', 'zain', 'zen', 'tamam', 'khalas', 'khlas', 'yalla', 'yallah',
  'inshallah', 'inshalla', 'wallah', 'walla', 'mashallah', 'hala', 'ahlan', 'ahlain', 'marhaba', 'salam', 'habibi', 'habibti',
  'akhooy', 'akhoy', 'akhi', 'bas', 'ya', 'el', 'al', 'fi', 'mn', 'wain', 'wein', 'mata', 'kam', 'bkam', 'bukra', 'bokra',
  'ba3dain', 'mashkoor', 'mashkor', 'shukran', 'shokran', 'tayeb', 'tayyeb', 'abshir', 'abshr', 'sabah', 'masa', 'khair', 'kheir',
  'allah', 'jazak', 'lee', 'li', 'hatha', 'hathi', 'hadha', 'elli', 'illi', 'wayed', 'waayed', 'shay', 'shi', 'shway', 'shwai',
  'mohtam', 'mohtameen', 'tafaseel', 'ghali', 'ghaali', 'bdal', 'law', 'lw', 'kallemny', 'kalmni', 'arsel', 'ersal', 'mumkin',
  'momken', 'na3am', 'la2', 'eshtirak', 'ishtirak', 'fatoora', 'fatora', 'mablagh', 'sharika', 'nethaam', 'nitham', 'ejtima3',
  'maw3ed', 'akthar', 'aktar', 'ghalat', 'ghalatan', 'tirsloon', 'tersloon', 'trasloni', 'tarasluni', 'wagif', 'wagef',
]);

/** Common English words; one of these in a Latin-letter message is evidence of English. */
const ENGLISH_WORDS: ReadonlySet<string> = new Set([
  'the', 'a', 'an', 'i', 'im', 'ive', 'id', 'you', 'your', 'youre', 'we', 'were', 'weve', 'our', 'us', 'me', 'my', 'it', 'its',
  'this', 'that', 'these', 'those', 'is', 'are', 'am', 'was', 'be', 'been', 'do', 'does', 'did', 'dont', 'doesnt', 'didnt',
  'have', 'has', 'had', 'havent', 'can', 'cant', 'could', 'would', 'will', 'wont', 'should', 'please', 'pls', 'plz', 'thanks',
  'thank', 'yes', 'no', 'not', 'what', 'whats', 'how', 'hows', 'much', 'many', 'when', 'where', 'who', 'why', 'which', 'price',
  'prices', 'pricing', 'send', 'sent', 'details', 'info', 'meeting', 'call', 'stop', 'number', 'wrong', 'interested', 'need',
  'want', 'later', 'now', 'next', 'week', 'month', 'year', 'today', 'tomorrow', 'for', 'to', 'of', 'in', 'on', 'at', 'with',
  'and', 'or', 'but', 'so', 'if', 'just', 'more', 'about', 'them', 'they', 'there', 'here', 'hi', 'hello', 'hey', 'good',
  'morning', 'evening', 'afternoon', 'sorry', 'buy', 'pay', 'paid', 'payment', 'invoice', 'contract', 'discount', 'cost', 'plan',
  'package', 'team', 'company', 'office', 'support', 'data', 'let', 'lets', 'sounds', 'great', 'maybe', 'busy', 'after', 'before',
  'again', 'anymore', 'any', 'some', 'all', 'from', 'by', 'as', 'too', 'very', 'really', 'right', 'time', 'free', 'trial',
  'offer', 'deal', 'sign', 'ready', 'start', 'done', 'transfer', 'transferred', 'receipt', 'messages', 'message', 'remove',
  'unsubscribe', 'person', 'contact', 'left', 'work', 'know', 'think', 'sure', 'fine', 'okay', 'got',
  'get', 'give', 'share', 'tell', 'see', 'look', 'looks', 'like', 'quote', 'users', 'user', 'annual', 'budget',
  'expensive', 'cheaper', 'already', 'use', 'using', 'tried', 'worried', 'than', 'better', 'best', 'off', 'out', 'up',
]);

function isArabiziToken(token: string): boolean {
  if (ARABIZI_WORDS.has(token)) return true;
  return ARABIZI_DIGIT.test(token) && !ENGLISH_NUMBER_WORD.test(token);
}

/**
 * Which writing a normalised message is in. Arabic letters and Latin words together →
 * `mixed`. Latin only → English or Arabizi by counting words from each lexicon and words with
 * Arabizi digits; clearly both (two or more of each) → `mixed`. A message with no letters at
 * all (an emoji, a number) is `ar`, the market's default language for a reply.
 *
 * @example
 * detectLanguage(normalizeText('abgha as3ar')) // → 'arabizi'
 * detectLanguage(normalizeText('ابغى demo بكرة')) // → 'mixed'
 */
export function detectLanguage(normalized: string): Language {
  let arabicWords = 0;
  const latinWords: string[] = [];
  for (const token of tokenize(normalized)) {
    if (ARABIC_LETTER.test(token)) arabicWords++;
    else if (LATIN_LETTER.test(token)) latinWords.push(token);
  }
  if (latinWords.length === 0) return 'ar';
  if (arabicWords > 0) return 'mixed';
  let arabizi = 0;
  let english = 0;
  for (const token of latinWords) {
    if (isArabiziToken(token)) arabizi++;
    else if (ENGLISH_WORDS.has(token)) english++;
  }
  if (arabizi >= 2 && english >= 2) return 'mixed';
  return arabizi > 0 && arabizi >= english ? 'arabizi' : 'en';
}
