/**
 * Text normalisation for intent classification. Everything downstream (rules, language
 * detection, the model) reads only the normalised text, so "هلااااا" and "هلا", "أُرِيد"
 * and "اريد", "٥٠٠٠" and "5000", "STOP!!!" and "stop" are the same thing to them.
 *
 * The steps, in order (each is its own exported function so each is tested on its own):
 * 1. Unicode NFKC (Arabic presentation forms, full-width Latin and digits → plain letters),
 *    invisible format characters (ZWJ, ZWNJ, bidi marks) removed.
 * 2. Arabic diacritics (tashkeel, Quranic marks, superscript alef) and tatweel removed.
 * 3. Letter variants unified: أ إ آ ٱ → ا; ؤ → و; ئ → ي; ة → ه; ى → ي; Persian ک ی → ك ي.
 * 4. Arabic-Indic and Persian digits → ASCII; ٫ → "."; ٬ → ","; ٪ → "%".
 * 5. Latin lowercased; Arabizi apostrophe letters (3' 7' 6' 9') written as digraphs.
 * 6. Emoji removed except a few that carry meaning on their own (👍 🤝 🛑 …), which stay as
 *    tokens; punctuation removed except "?" (a question is evidence) and "%" (a discount),
 *    apostrophes inside words dropped ("don't" → "dont"), digit groups joined ("3,000" → "3000").
 * 7. Letter elongation collapsed ("هلااااا" → "هلا", "pleeease" → "please"), keeping real
 *    doubles that a word needs ("الله", "good", "mashkoor").
 * 8. Whitespace collapsed to single spaces, trimmed.
 *
 * @example
 * normalizeText('هلاااا والله 👋!!') // → 'هلا والله'
 * normalizeText('STOP sending me msgs!!!') // → 'stop sending me msgs'
 */
export function normalizeText(text: string): string {
  let out = text.normalize('NFKC').replace(INVISIBLE, '');
  out = stripDiacritics(out);
  out = unifyLetters(out);
  out = asciiDigits(out);
  out = lowercaseLatin(out);
  out = stripSymbols(out);
  out = collapseWhitespace(out);
  return out
    .split(' ')
    .map((token) => collapseElongation(token))
    .join(' ');
}

/** Splits normalised text into tokens (normalised text is already single-spaced). */
export function tokenize(normalized: string): string[] {
  return normalized === '' ? [] : normalized.split(' ');
}

// Zero-width joiners/non-joiners, bidi marks and isolates, BOM, soft hyphen.
const INVISIBLE = /[\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g;

// Harakat and tanween (064B–065F), superscript alef (0670), Quranic annotation marks, and
// the honorific marks (0610–061A); tatweel (0640) is a stretch, not a letter.
const DIACRITICS = /[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06DC\u06DF-\u06E8\u06EA-\u06ED\u0640]/g;

/** Removes tashkeel (fatha, damma, kasra, sukun, shadda, tanween, …) and tatweel. */
export function stripDiacritics(text: string): string {
  return text.replace(DIACRITICS, '');
}

const LETTER_MAP: Record<string, string> = {
  'أ': 'ا',
  'إ': 'ا',
  'آ': 'ا',
  'ٱ': 'ا',
  'ؤ': 'و',
  // Colloquial spelling already writes ئ as ي ("رسايل" for "رسائل"), so both meet here.
  'ئ': 'ي',
  'ة': 'ه',
  'ى': 'ي',
  'ک': 'ك',
  'ی': 'ي',
  'ۀ': 'ه',
  'ە': 'ه',
};
const LETTER_VARIANTS = new RegExp(`[${Object.keys(LETTER_MAP).join('')}]`, 'g');

/** Alef/hamza variants, taa marbuta, alef maqsura and Persian letter forms → one spelling. */
export function unifyLetters(text: string): string {
  return text.replace(LETTER_VARIANTS, (letter) => LETTER_MAP[letter] ?? letter);
}

/** Arabic-Indic (٠–٩) and Persian (۰–۹) digits → 0–9, and the Arabic separators and percent sign. */
export function asciiDigits(text: string): string {
  return text.replace(/[\u0660-\u066C\u06F0-\u06F9]/g, (char) => {
    const code = char.charCodeAt(0);
    if (code >= 0x0660 && code <= 0x0669) return String(code - 0x0660);
    if (code >= 0x06f0) return String(code - 0x06f0);
    return code === 0x066a ? '%' : code === 0x066b ? '.' : ',';
  });
}

// Arabizi writes غ خ ظ ض as a digit and an apostrophe; without this, dropping the apostrophe
// would turn "3'ali" (غالي, expensive) into "3ali" (عالي, high).
const ARABIZI_APOSTROPHE_LETTERS: Record<string, string> = { '3': 'gh', '7': 'kh', '6': 'th', '9': 'dh' };

/** Lowercases Latin and spells the Arabizi apostrophe letters as digraphs (3' → gh). */
export function lowercaseLatin(text: string): string {
  return text
    .toLowerCase()
    .replace(/([3769])['’‘`´]/g, (_match, digit: string) => ARABIZI_APOSTROPHE_LETTERS[digit] ?? digit);
}

/**
 * Emoji that mean something on their own in a sales chat (agreement, a handshake, a wave, a
 * stop sign, money). They stay, as their own tokens; every other emoji is decoration.
 */
export const MEANINGFUL_EMOJI: ReadonlySet<string> = new Set(['👍', '👎', '👌', '✅', '❌', '🤝', '👋', '🙏', '🛑', '⛔', '🚫', '📞', '📅', '💰', '💳']);

// An alternation, not one class: a class holding the combining keycap reads as one misleading character.
const EMOJI_MODIFIERS = /[\u{1F3FB}-\u{1F3FF}]|\uFE0E|\uFE0F|\u20E3/gu;

/**
 * Removes punctuation and emoji, keeping what carries meaning: the meaningful emoji (as
 * tokens), "?" (and "؟", as "?"), "%" attached to its number, decimal points between digits.
 */
export function stripSymbols(text: string): string {
  let out = text.replace(EMOJI_MODIFIERS, '');
  // "don't" → "dont", "i'm" → "im": an apostrophe inside a word is not a word break.
  out = out.replace(/(\p{L})['’‘`´](\p{L})/gu, '$1$2');
  // "3,000" → "3000"; "1.5" stays.
  out = out.replace(/(\d)[,٬](?=\d{3}\b)/gu, '$1');
  const chars = [...out];
  let result = '';
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] as string;
    if (KEPT_CHAR.test(char)) result += char;
    else if (char === '?' || char === '؟') result += ' ? ';
    else if (char === '.' && DIGIT.test(chars[i - 1] ?? '') && DIGIT.test(chars[i + 1] ?? '')) result += '.';
    else if (MEANINGFUL_EMOJI.has(char)) result += ` ${char} `;
    else result += ' ';
  }
  return result;
}

const KEPT_CHAR = /[\p{L}\p{N}\s%]/u;
const DIGIT = /\d/;

/** Collapses every run of whitespace into one space and trims. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Words whose double letters are real, so collapsing an elongation keeps them doubled
 * ("goooood" → "good", not "god"; "الللله" → "الله").
 */
const REAL_DOUBLES: ReadonlySet<string> = new Set([
  'الله', 'اللي', 'للي', 'الليله', 'والله',
  'good', 'soon', 'too', 'see', 'need', 'meet', 'meeting', 'week', 'free', 'feel', 'fee', 'sorry', 'all', 'call', 'will',
  'still', 'tell', 'well', 'off', 'staff', 'book', 'look', 'cool', 'agree', 'keep', 'three', 'happy', 'really', 'bill',
  'full', 'zoom', 'noon', 'yalla', 'wallah', 'allah', 'inshallah', 'mashkoor', 'mashkor', 'akhooy',
]);

/**
 * Collapses a run of three or more of the same letter ("هلااااا", "pleeease", "stoppp"): to
 * two when that spells a word with a real double, otherwise to one. A doubled Arabic alef is
 * never a real spelling, so "اا" → "ا" as well. Digits are never touched ("1000").
 */
export function collapseElongation(token: string): string {
  const out = token.replace(/اا+/g, 'ا');
  if (!/(\p{L})\1\1/u.test(out)) return out;
  const runs = [...out.matchAll(/(\p{L})\1\1+/gu)];
  const single = out.replace(/(\p{L})\1\1+/gu, '$1');
  if (runs.length > 3) return single;
  // Try each elongated run as a double, the others as singles; keep the first real word.
  for (let mask = 1; mask < 1 << runs.length; mask++) {
    let index = 0;
    const candidate = out.replace(/(\p{L})\1\1+/gu, (_run, letter: string) => ((mask >> index++) & 1 ? letter + letter : letter));
    if (REAL_DOUBLES.has(candidate)) return candidate;
  }
  return single;
}
